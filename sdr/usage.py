"""A workspace's usage over a period: what it has, what the product did, what came of it.

For a CRM's dashboard and for checking an invoice: counts only, each one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from sdr.models import LLMCall, Workspace


def usage_summary(*, workspace: Workspace, start: datetime, end: datetime) -> dict[str, Any]:
    """Counts for [start, end): leads and companies (totals and added), researched
    companies, messages sent, replies by category, outcomes by kind, model spend."""
    from leads.models import Company, Lead
    from outreach.models import Message, Outcome, Reply

    period = Q(created_at__gte=start, created_at__lt=end)
    leads = Lead.objects.for_workspace(workspace).aggregate(
        total=Count("pk"), added=Count("pk", filter=period)
    )
    companies = Company.objects.for_workspace(workspace).aggregate(
        total=Count("pk"),
        added=Count("pk", filter=period),
        researched=Count(
            "pk",
            filter=Q(enrich_status=Company.EnrichStatus.DONE, enriched_at__gte=start)
            & Q(enriched_at__lt=end),
        ),
        research_failed=Count("pk", filter=Q(enrich_status=Company.EnrichStatus.FAILED)),
    )
    sent = (
        Message.objects.for_workspace(workspace)
        .filter(sent_at__gte=start, sent_at__lt=end, status=Message.Status.SENT)
        .count()
    )
    replies = _by(
        Reply.objects.for_workspace(workspace).filter(received_at__gte=start, received_at__lt=end),
        "category",
    )
    outcomes = _by(
        Outcome.objects.for_workspace(workspace).filter(
            occurred_at__gte=start, occurred_at__lt=end
        ),
        "kind",
    )
    calls = LLMCall.objects.for_workspace(workspace).filter(period)
    spend = calls.aggregate(calls=Count("pk"), cost=Sum("cost"))
    return {
        "period": {"start": start, "end": end},
        "leads": leads,
        "companies": companies,
        "messages": {"sent": sent},
        "replies": {"total": sum(replies.values()), "by_category": replies},
        "outcomes": {"total": sum(outcomes.values()), "by_kind": outcomes},
        "model": {"calls": spend["calls"], "cost_usd": str(spend["cost"] or 0)},
    }


def _by(queryset: Any, field: str) -> dict[str, int]:
    rows = queryset.order_by().values(field).annotate(n=Count("pk"))
    return {row[field]: row["n"] for row in rows}
