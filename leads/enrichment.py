"""Company enrichment: fetch the company's pages, extract facts, choose field values.

(Being written in this session; `companies_enqueue_enrichment` is the entry point the
importer and the API call.)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from sdr.models import Workspace


def companies_enqueue_enrichment(*, workspace: Workspace, company_ids: Iterable) -> int:
    """Queue enrichment for these companies after the current transaction commits."""
    from leads.models import Company
    from leads.tasks import enrich_company_task

    ids = list(
        Company.objects.for_workspace(workspace)
        .filter(pk__in=list(company_ids))
        .exclude(enrich_status__in=[Company.EnrichStatus.QUEUED, Company.EnrichStatus.RUNNING])
        .values_list("pk", flat=True)
    )
    Company.objects.for_workspace(workspace).filter(pk__in=ids).update(
        enrich_status=Company.EnrichStatus.QUEUED
    )
    for company_id in ids:
        transaction.on_commit(lambda cid=company_id: enrich_company_task.delay(str(cid)))
    return len(ids)
