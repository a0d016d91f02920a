"""Nightly reconciliation: the ledger's counts against Stripe's meter event summaries.

For every Stripe customer and meter, the month so far: how many events the ledger says
Stripe holds (reported, not cancelled) and Stripe's aggregated value for the same period.
A difference is stored (`BillingDiscrepancy`), written to the workspace's activity log and
logged; it is for a person to look at, never corrected automatically.

Stripe aggregates meter events asynchronously, so the period ends a while before now
(`SETTLE`), on a minute boundary as the summaries API requires.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from billing import stripe_client
from billing.models import BillableEvent, BillingAccount, BillingDiscrepancy
from billing.plans import plan_get
from billing.spend import period_start
from sdr.activity import SYSTEM, activity_record

logger = logging.getLogger(__name__)

SETTLE = timedelta(minutes=15)

# At Stripe: reported and not cancelled (a balance credit leaves the meter event there).
AT_STRIPE = (
    Q(reported_at__isnull=False)
    & ~Q(stripe_customer_id="")
    & ~Q(credit_method=BillableEvent.CreditMethod.METER_CANCEL)
)


@dataclass(frozen=True)
class Difference:
    workspace_id: Any
    customer_id: str
    meter_event_name: str
    ledger: int
    stripe: Decimal


def ledger_reconcile(*, now: datetime | None = None) -> list[Difference]:
    """Compare this month so far; returns (and records) the differences."""
    if not stripe_client.billing_enabled():
        return []
    now = now or timezone.now()
    end = (now - SETTLE).replace(second=0, microsecond=0)
    start = period_start(end)
    counts: dict[tuple[Any, str, str], int] = {}
    rows = (
        BillableEvent.unscoped_objects.filter(
            AT_STRIPE, occurred_at__gte=start, occurred_at__lt=end
        )
        .values("workspace_id", "stripe_customer_id", "meter_event_name")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        key = (row["workspace_id"], row["stripe_customer_id"], row["meter_event_name"])
        counts[key] = row["n"]
    # Customers with nothing in the ledger are compared too: Stripe may hold what we don't.
    for account in BillingAccount.unscoped_objects.exclude(stripe_customer_id=""):
        for price in plan_get(account.plan).outcome_prices:
            counts.setdefault(
                (account.workspace_id, account.stripe_customer_id, price.meter_event_name), 0
            )
    meters = {m.event_name: m.id for m in stripe_client.meters_list()}
    differences = []
    for (workspace_id, customer_id, event_name), ledger in sorted(counts.items(), key=str):
        meter_id = meters.get(event_name)
        if meter_id is None:
            stripe_count = Decimal(0)
        else:
            stripe_count = stripe_client.meter_event_count(
                meter_id=meter_id, customer_id=customer_id, start=start, end=end
            )
        if Decimal(ledger) != stripe_count:
            difference = Difference(workspace_id, customer_id, event_name, ledger, stripe_count)
            _record(difference, start, end)
            differences.append(difference)
    logger.info("billing reconciliation %s..%s: %s differences", start, end, len(differences))
    return differences


def _record(difference: Difference, start: datetime, end: datetime) -> None:
    logger.warning(
        "billing: ledger and Stripe differ for %s %s: ledger %s, Stripe %s",
        difference.customer_id,
        difference.meter_event_name,
        difference.ledger,
        difference.stripe,
    )
    with transaction.atomic():
        row = BillingDiscrepancy.unscoped_objects.create(
            workspace_id=difference.workspace_id,
            stripe_customer_id=difference.customer_id,
            meter_event_name=difference.meter_event_name,
            period_start=start,
            period_end=end,
            ledger_count=difference.ledger,
            stripe_count=difference.stripe,
        )
        activity_record(
            workspace=difference.workspace_id,
            type="billing.reconcile_mismatch",
            object_type="billing_discrepancy",
            object_id=row.pk,
            payload={
                "meter": difference.meter_event_name,
                "ledger": difference.ledger,
                "stripe": str(difference.stripe),
            },
            actor=SYSTEM,
        )
