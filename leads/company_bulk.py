"""Acting on many companies at once from the companies list: the ones ticked, or every
company the list's filters match. Research again, suppress the domain, add their leads to
a campaign, or export as CSV.

As for leads (leads/bulk.py), the selection is read back within the member's workspace,
and a selection larger than one request may act on is refused whole, never done in part.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from itertools import chain

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet
from django.http import QueryDict

from leads import selectors
from leads.bulk import BulkResult, ids_posted, ids_within, leads_enroll, suppress_values
from leads.enrichment import companies_enqueue_enrichment
from leads.models import Company, Lead
from sdr.models import Workspace
from sdr.spreadsheet import csv_lines

# Research costs a crawl of each site: a few hundred at a time keep the queue fair to
# everyone else's work.
MAX_COMPANIES = 500
EXPORT_HEADER = [
    "id",
    "name",
    "domain",
    "industry",
    "employee_count",
    "country",
    "tech_stack",
    "research_status",
    "researched_at",
    "leads",
]


def companies_selected(*, workspace: Workspace, params: QueryDict) -> QuerySet[Company]:
    """With `scope=matching`, every company the list's filters match; otherwise the ids
    ticked (`company`, repeated). InvalidQuery for a filter or an id that is not one."""
    if params.get("scope") == "matching":
        return selectors.company_list(workspace=workspace, **selectors.company_filters(params))
    return Company.objects.for_workspace(workspace).filter(pk__in=ids_posted(params, "company"))


def _ids_within(companies: QuerySet[Company]) -> list[uuid.UUID]:
    return ids_within(companies, MAX_COMPANIES, noun="companies")


def companies_research(*, workspace: Workspace, companies: QuerySet[Company]) -> BulkResult:
    ids = _ids_within(companies)
    queued = companies_enqueue_enrichment(workspace=workspace, company_ids=ids)
    result = BulkResult(acted_on=queued)
    result.skip("being researched right now", len(ids) - queued)
    return result


def companies_suppress(
    *, workspace: Workspace, companies: QuerySet[Company], user: User
) -> BulkResult:
    """Suppress each company's whole domain: nobody there is mailed again."""
    ids = _ids_within(companies)
    domains = list(
        Company.objects.for_workspace(workspace)
        .filter(pk__in=ids)
        .exclude(domain="")
        .values_list("domain", flat=True)
    )
    return suppress_values(
        workspace=workspace,
        values=domains,
        selected=len(ids),
        missing="without a domain",
        user=user,
        reason="Domain suppressed from the companies list.",
        refused="with a domain that cannot be suppressed",
    )


def companies_enroll(
    *, workspace: Workspace, companies: QuerySet[Company], campaign_id: str
) -> BulkResult:
    """Add the people at these companies to a campaign, as the leads list's action does."""
    ids = _ids_within(companies)
    leads = Lead.objects.for_workspace(workspace).filter(company_id__in=ids)
    return leads_enroll(workspace=workspace, leads=leads, campaign_id=campaign_id)


def companies_export_csv(companies: QuerySet[Company]) -> Iterator[str]:
    rows = (
        companies.annotate(lead_total=Count("leads"))
        .order_by("name", "id")
        .iterator(chunk_size=2_000)
    )
    return csv_lines(chain([EXPORT_HEADER], (_export_row(c) for c in rows)))


def _export_row(company: Company) -> list[object]:
    return [
        company.pk,
        company.name,
        company.domain,
        company.industry,
        "" if company.employee_count is None else company.employee_count,
        company.country,
        "; ".join(str(t) for t in company.tech_stack or []),
        company.get_enrich_status_display(),
        company.enriched_at.isoformat() if company.enriched_at else "",
        company.lead_total,  # type: ignore[attr-defined]  # the annotation above
    ]
