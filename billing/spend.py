"""The monthly spend cap, and what pauses a workspace's sending for billing reasons.

A workspace's sending pauses when its owner's money says so: a payment failed and the
plan's grace period has passed (until an invoice is paid), or the outcomes billed this
month would pass the spend cap (until next month or a higher cap). Outcomes still happen
while sending is paused (replies to earlier emails) and are still recorded and billed:
the cap stops new sending, it does not hide results.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.models import BillableEvent, BillingAccount
from billing.plans import plan_get
from billing.stripe_client import billing_enabled
from sdr.activity import SYSTEM, activity_record
from sdr.models import Workspace
from sdr.notify import owners_notify

# Events that count against the month: all but those credited back.
_COUNTED = [s for s in BillableEvent.Status.values if s != BillableEvent.Status.CREDITED]


def period_start(now: datetime) -> datetime:
    """The billing month: calendar months in UTC."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = period_start(now)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def period_spend(*, workspace: Workspace, now: datetime) -> Decimal:
    start, end = period_bounds(now)
    total = (
        BillableEvent.objects.for_workspace(workspace)
        .filter(occurred_at__gte=start, occurred_at__lt=end, status__in=_COUNTED)
        .aggregate(total=Sum("price"))["total"]
    )
    return total or Decimal(0)


def spend_check(*, account: BillingAccount, now: datetime) -> bool:
    """After an outcome is billed: if one more would pass the cap, pause sending and tell
    the owner (an activity, and the banner on every page). True if it paused now. Call
    inside the transaction that recorded the event."""
    if account.spend_cap is None:
        return False
    month = period_start(now).date()
    if account.cap_reached_period == month:
        return False
    plan = plan_get(account.plan)
    cheapest = min((p.amount for p in plan.outcome_prices), default=Decimal(0))
    spent = period_spend(workspace=account.workspace, now=now)
    if spent + cheapest <= account.spend_cap:
        return False
    moved = (
        BillingAccount.unscoped_objects.filter(pk=account.pk)
        .exclude(cap_reached_period=month)
        .update(cap_reached_period=month, updated_at=timezone.now())
    )
    if not moved:
        return False  # another worker noticed first
    account.cap_reached_period = month
    activity_record(
        workspace=account.workspace_id,
        type="billing.spend_cap_reached",
        object_type="billing_account",
        object_id=account.pk,
        payload={"spent": str(spent), "cap": str(account.spend_cap), "month": str(month)},
        actor=SYSTEM,
    )
    workspace, cap = account.workspace, account.spend_cap
    transaction.on_commit(
        lambda: owners_notify(
            workspace,
            subject="Sending paused: the monthly spend cap is reached",
            body=(
                f"Outcomes billed this month come to {spent} against your cap of {cap}, "
                "so no new email goes out until the next month or until you raise the cap "
                "on the Billing page. Replies are still read and answered."
            ),
        )
    )
    return True


def hold_reason(account: BillingAccount, *, now: datetime) -> str:
    """Why billing pauses this workspace's sending, in words; "" if it does not."""
    if not billing_enabled():
        return ""
    plan = plan_get(account.plan)
    if account.payment_failed_at is not None:
        resume = account.payment_failed_at + timedelta(days=plan.payment_grace_days)
        if now >= resume:
            return (
                "billing: a payment failed on "
                f"{account.payment_failed_at:%Y-%m-%d}; sending is paused until it is paid"
            )
    if account.cap_reached_period is not None and account.cap_reached_period == _month(now):
        return (
            f"billing: this month's spend cap ({account.spend_cap}) is reached; sending "
            "resumes next month or with a higher cap"
        )
    return ""


def _month(now: datetime) -> date:
    return period_start(now).date()


def sending_holds(*, now: datetime) -> dict[Any, str]:
    """{workspace_id: reason} for every workspace whose sending billing pauses: one
    query, for the dispatcher's pass."""
    if not billing_enabled():
        return {}
    accounts = BillingAccount.unscoped_objects.filter(
        Q(payment_failed_at__isnull=False) | Q(cap_reached_period=_month(now))
    ).only("workspace_id", "plan", "payment_failed_at", "cap_reached_period", "spend_cap")
    holds = {}
    for account in accounts:
        reason = hold_reason(account, now=now)
        if reason:
            holds[account.workspace_id] = reason
    return holds


def cap_set(*, account: BillingAccount, cap: Decimal | None, now: datetime) -> BillingAccount:
    """Set or clear the monthly cap; a raised cap lifts this month's pause if the spend
    so far leaves room for another outcome."""
    account.spend_cap = cap
    account.cap_reached_period = None
    account.save(update_fields=["spend_cap", "cap_reached_period", "updated_at"])
    spend_check(account=account, now=now)
    activity_record(
        workspace=account.workspace_id,
        type="billing.spend_cap_set",
        object_type="billing_account",
        object_id=account.pk,
        payload={"cap": None if cap is None else str(cap)},
    )
    return account
