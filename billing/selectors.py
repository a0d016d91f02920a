"""Reads the billing page and the API share."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from billing import stripe_client
from billing.disputes import can_dispute, dispute_window_ends
from billing.ledger import account_for
from billing.models import BillableEvent, BillingAccount
from billing.plans import Plan, plan_get
from billing.spend import hold_reason, period_bounds
from sdr.llm import llm_cost_by_subject, llm_cost_summary
from sdr.models import Workspace

logger = logging.getLogger(__name__)


def billable_events(*, workspace: Workspace) -> Any:
    return BillableEvent.objects.for_workspace(workspace).select_related("lead")


@dataclass
class KindUsage:
    kind: str
    label: str
    count: int
    price: Decimal
    cost: Decimal
    llm_cost_per_outcome: Decimal | None


@dataclass
class BillingPage:
    enabled: bool
    account: BillingAccount
    plan: Plan
    period_start: datetime
    period_end: datetime
    usage: list[KindUsage]
    total: Decimal
    events: list[BillableEvent]
    disputable: set[Any]
    invoices: list[stripe_client.Invoice] = field(default_factory=list)
    invoices_error: str = ""
    hold: str = ""
    llm_cost_month: Decimal = Decimal(0)
    llm_cost_by_lead: dict[Any, Decimal] = field(default_factory=dict)

    def rows(self) -> list[tuple[BillableEvent, Decimal | None, bool]]:
        """Each event with the model cost spent on its lead, and whether it can be disputed."""
        return [
            (e, self.llm_cost_by_lead.get(e.lead_id), e.pk in self.disputable) for e in self.events
        ]


def billing_page(*, workspace: Workspace, now: datetime | None = None) -> BillingPage:
    now = now or timezone.now()
    account = account_for(workspace)
    plan = plan_get(account.plan)
    start, end = period_bounds(now)
    month = BillableEvent.objects.for_workspace(workspace).filter(
        occurred_at__gte=start, occurred_at__lt=end
    )
    counted = ~Q(status=BillableEvent.Status.CREDITED)
    per_kind = {
        row["kind"]: row
        for row in month.filter(counted)
        .values("kind")
        .annotate(n=Count("pk"), cost=Sum("price"))
        .order_by("kind")
    }
    # Our margin: what the model calls of the month cost, per billed outcome of each kind.
    llm = llm_cost_summary(workspace=workspace, since=start)
    llm_cost = Decimal(llm.get("cost") or 0)
    usage = []
    for price in plan.outcome_prices:
        row = per_kind.get(price.kind, {})
        n = int(row.get("n") or 0)
        usage.append(
            KindUsage(
                kind=price.kind,
                label=price.kind.replace("_", " ").capitalize(),
                count=n,
                price=price.amount,
                cost=Decimal(row.get("cost") or 0),
                llm_cost_per_outcome=(llm_cost / n).quantize(Decimal("0.0001")) if n else None,
            )
        )
    events = list(billable_events(workspace=workspace).order_by("-occurred_at")[:200])
    llm_by_lead = _llm_cost_by_lead(workspace, [e.lead_id for e in events if e.lead_id])
    page = BillingPage(
        enabled=stripe_client.billing_enabled(),
        account=account,
        plan=plan,
        period_start=start,
        period_end=end,
        usage=usage,
        total=sum((u.cost for u in usage), Decimal(0)),
        events=events,
        disputable={e.pk for e in events if can_dispute(e)},
        hold=hold_reason(account, now=now),
        llm_cost_month=llm_cost,
        llm_cost_by_lead=llm_by_lead,
    )
    if page.enabled and account.stripe_customer_id:
        try:
            page.invoices = stripe_client.invoices_list(customer_id=account.stripe_customer_id)
        except stripe_client.StripeError as error:
            page.invoices_error = "Invoices could not be loaded from Stripe just now."
            logger.warning("billing page: invoices for %s: %s", workspace.pk, error.message)
    return page


def _llm_cost_by_lead(workspace: Workspace, lead_ids: list[Any]) -> dict[Any, Decimal]:
    """The model cost of the emails written to each lead (drafting, checking): two queries."""
    from outreach.models import Message

    if not lead_ids:
        return {}
    messages = dict(
        Message.objects.for_workspace(workspace)
        .filter(enrollment__lead_id__in=lead_ids)
        .values_list("pk", "enrollment__lead_id")
    )
    costs = llm_cost_by_subject(
        workspace=workspace, subject_type="message", subject_ids=[str(m) for m in messages]
    )
    by_lead: dict[Any, Decimal] = {}
    for message_id, lead_id in messages.items():
        cost = costs.get(str(message_id))
        if cost is not None:
            by_lead[lead_id] = by_lead.get(lead_id, Decimal(0)) + cost
    return by_lead


def dispute_deadline(event: BillableEvent) -> datetime:
    return dispute_window_ends(event)
