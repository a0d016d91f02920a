"""The reporting outbox: pending ledger rows become Stripe Billing Meter events.

One event is claimed (pending → reporting, with a lease), sent with the row's id as the
meter event's `identifier` and a deterministic idempotency key, and the result recorded in
its own transaction (STYLE.md, habit 6: no Stripe call inside `atomic()`). Sending twice
is harmless by construction: within 24 hours the idempotency key replays Stripe's first
answer, and Stripe refuses a second event with the same identifier ("already exists"),
which we record as reported. So a worker that timed out after Stripe had the event, or
died after sending, can try again.

Transient errors (timeouts, 429, 5xx) go back to pending with a backoff; an event that
keeps failing, or fails permanently, is marked failed with the reason, for a person.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import stripe_client
from billing.models import BillableEvent, BillingAccount
from sdr.activity import SYSTEM, activity_record
from sdr.states import Claim, claim, transition

logger = logging.getLogger(__name__)

# Longer than one SDK call with all its retries; the sweeper returns a row held longer.
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 60 * 60
# Without a Stripe customer yet (no Checkout completed), look again this much later.
NO_CUSTOMER_WAIT = timedelta(hours=1)


class ReportOutcome:
    REPORTED = "reported"
    RETRY = "retry"
    FAILED = "failed"
    WAITING = "waiting"  # no Stripe customer yet
    SKIPPED = "skipped"  # not ours to send now (claimed elsewhere, not due, billing off)


@dataclass(frozen=True)
class Result:
    outcome: str
    retry_in: float | None = None  # seconds, for a transient error
    detail: str = ""


def idempotency_key(event: BillableEvent) -> str:
    return f"sdr-meter-event-{event.pk}"


def backoff(attempts: int) -> float:
    """Exponential, capped, with jitter: after the n-th failed attempt."""
    delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto


def event_report(*, event_id: Any, force: bool = False) -> Result:
    """Send one pending event to Stripe. `force` ignores its backoff (a task retrying)."""
    if not stripe_client.billing_enabled():
        return Result(ReportOutcome.SKIPPED, detail="billing is off")
    now = timezone.now()
    due = Q() if force else Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    if not BillableEvent.unscoped_objects.filter(due, pk=event_id).exists():
        return Result(ReportOutcome.SKIPPED, detail="not due")
    held = claim(
        BillableEvent,
        event_id,
        source=BillableEvent.Status.PENDING,
        target=BillableEvent.Status.REPORTING,
        lease=LEASE,
    )
    if held is None:
        return Result(ReportOutcome.SKIPPED, detail="not pending")
    event = BillableEvent.unscoped_objects.get(pk=event_id)
    customer_id = (
        BillingAccount.unscoped_objects.filter(workspace_id=event.workspace_id)
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    if not customer_id:
        # Not a failure: the workspace has not subscribed yet. Its events wait, and are
        # reported once Checkout (or billing_set_customer) links a customer.
        _release(event, held, "no Stripe customer linked yet", now + NO_CUSTOMER_WAIT)
        return Result(ReportOutcome.WAITING, detail="no Stripe customer")
    try:
        stripe_client.meter_event_create(
            event_name=event.meter_event_name,
            identifier=event.stripe_identifier or str(event.pk),
            customer_id=customer_id,
            value=1,
            timestamp=event.occurred_at,
            idempotency_key=idempotency_key(event),
        )
    except stripe_client.DuplicateIdentifier:
        # Stripe has it already: an earlier attempt reached it and its answer was lost.
        _reported(event, held, customer_id, "already at Stripe (identifier exists)")
        return Result(ReportOutcome.REPORTED, detail="duplicate identifier")
    except stripe_client.StripeTransient as error:
        if event.attempts + 1 >= settings.BILLING_REPORT_MAX_ATTEMPTS:
            _failed(event, held, error.message)
            return Result(ReportOutcome.FAILED, detail=error.message)
        wait = backoff(event.attempts + 1)
        _release(event, held, error.message, timezone.now() + timedelta(seconds=wait))
        return Result(ReportOutcome.RETRY, retry_in=wait, detail=error.message)
    except stripe_client.StripePermanent as error:
        _failed(event, held, error.message)
        return Result(ReportOutcome.FAILED, detail=error.message)
    _reported(event, held, customer_id, "")
    return Result(ReportOutcome.REPORTED)


def _reported(event: BillableEvent, held: Claim, customer_id: str, note: str) -> None:
    with transaction.atomic():
        moved = transition(
            BillableEvent,
            event.pk,
            source=BillableEvent.Status.REPORTING,
            target=BillableEvent.Status.REPORTED,
            token=held.token,
            reported_at=timezone.now(),
            stripe_customer_id=customer_id,
            last_error="",
            next_attempt_at=None,
        )
        if not moved:
            # Our lease ran out and the sweeper gave the row to another worker: it will
            # send the same identifier and record the same result.
            logger.warning("billable event %s: lease lost before recording", event.pk)
            return
        activity_record(
            workspace=event.workspace_id,
            type="billing.event_reported",
            object_type="billable_event",
            object_id=event.pk,
            payload={"kind": event.kind, "price": str(event.price), "note": note},
            actor=SYSTEM,
        )


def _release(event: BillableEvent, held: Claim, reason: str, next_at: datetime) -> None:
    transition(
        BillableEvent,
        event.pk,
        source=BillableEvent.Status.REPORTING,
        target=BillableEvent.Status.PENDING,
        token=held.token,
        last_error=reason[:2000],
        next_attempt_at=next_at,
    )


def _failed(event: BillableEvent, held: Claim, reason: str) -> None:
    with transaction.atomic():
        if not transition(
            BillableEvent,
            event.pk,
            source=BillableEvent.Status.REPORTING,
            target=BillableEvent.Status.FAILED,
            token=held.token,
            last_error=reason[:2000],
        ):
            return
        activity_record(
            workspace=event.workspace_id,
            type="billing.event_failed",
            object_type="billable_event",
            object_id=event.pk,
            payload={"kind": event.kind, "error": reason[:300]},
            actor=SYSTEM,
        )
    logger.error("billable event %s could not be reported: %s", event.pk, reason)


@dataclass
class PassReport:
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        self.outcomes[result.outcome] = self.outcomes.get(result.outcome, 0) + 1

    def summary(self) -> str:
        return ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items())) or "nothing due"


def events_report_pending(*, limit: int = 500) -> PassReport:
    """One pass of the outbox: every pending event that is due, oldest first."""
    report = PassReport()
    if not stripe_client.billing_enabled():
        return report
    now = timezone.now()
    ids = list(
        BillableEvent.unscoped_objects.filter(status=BillableEvent.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        report.add(event_report(event_id=event_id))
    return report


def events_requeue_for_customer(*, workspace_id: Any) -> int:
    """A customer was just linked: the events that waited for one are due now."""
    return BillableEvent.unscoped_objects.filter(
        workspace_id=workspace_id, status=BillableEvent.Status.PENDING
    ).update(next_attempt_at=None, updated_at=timezone.now())
