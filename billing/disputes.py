"""Disputes: a customer says a charge is wrong; we decide, and Stripe follows.

A member disputes an event (pending or reported) within the plan's window, with a
reason: it becomes DISPUTED and is not reported while disputed. Our staff resolve it
(`manage.py billing_resolve_dispute`, or the admin's actions on billable events): the
customer does not judge its own bill, so no workspace role can resolve one.

- credit (the dispute is upheld): CREDITED. At Stripe, the meter event is cancelled if
  it was reported less than 24 hours ago (a meter event adjustment; Stripe allows it
  only then), else the customer's balance is credited with the event's price, taken off
  their next invoice. An event never reported needs nothing at Stripe.
- uphold (the charge stands): UPHELD; an event never reported goes back to PENDING and
  is reported as usual.

Both sides see it: the event's status and resolution on the billing page and in the API,
the cancellation or the credit at Stripe, and an activity for each step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing import stripe_client
from billing.models import BillableEvent, BillingAccount
from billing.plans import plan_get
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.states import claim, transition

# Stripe accepts a meter event cancellation within 24 hours of the event's receipt; we
# keep a margin so a request in flight does not cross the line.
CANCEL_WITHIN = timedelta(hours=23)
LEASE = timedelta(minutes=5)
_DISPUTABLE = [BillableEvent.Status.PENDING, BillableEvent.Status.REPORTED]


def dispute_window_ends(event: BillableEvent) -> Any:
    return event.occurred_at + timedelta(days=plan_get(event.plan).dispute_window_days)


def can_dispute(event: BillableEvent) -> bool:
    return event.status in _DISPUTABLE and timezone.now() <= dispute_window_ends(event)


def event_dispute(*, event: BillableEvent, reason: str, user: Any = None) -> BillableEvent:
    """Dispute one event; it stops being reported and waits for our decision."""
    reason = (reason or "").strip()
    if not reason:
        raise AppError(
            ErrorCode.INVALID,
            "Say why the charge is wrong.",
            details={"reason": ["This field is required."]},
        )
    if event.resolved_at is not None:
        raise AppError(
            ErrorCode.CONFLICT, "A dispute about this charge was decided already.", status_code=409
        )
    if timezone.now() > dispute_window_ends(event):
        raise AppError(
            ErrorCode.CONFLICT,
            f"The dispute window closed on {dispute_window_ends(event):%Y-%m-%d}.",
            status_code=409,
        )
    with transaction.atomic():
        # REPORTING is left out on purpose: a worker is sending it right now; once it
        # is reported, it can be disputed.
        moved = transition(
            BillableEvent,
            event.pk,
            source=_DISPUTABLE,
            target=BillableEvent.Status.DISPUTED,
            dispute_reason=reason[:5000],
            disputed_at=timezone.now(),
            disputed_by=user if getattr(user, "pk", None) else None,
        )
        if not moved:
            event.refresh_from_db()
            raise AppError(
                ErrorCode.CONFLICT,
                f"This charge is {event.get_status_display().lower()}: it cannot be disputed now.",
                status_code=409,
            )
        activity_record(
            workspace=event.workspace_id,
            type="billing.event_disputed",
            object_type="billable_event",
            object_id=event.pk,
            payload={"kind": event.kind, "price": str(event.price)},
        )
    event.refresh_from_db()
    return event


def dispute_resolve(*, event: BillableEvent, credit: bool, note: str = "") -> BillableEvent:
    """Decide a dispute: `credit=True` upholds it (the customer does not pay)."""
    if not credit:
        return _uphold(event, note)
    held = claim(
        BillableEvent,
        event.pk,
        source=BillableEvent.Status.DISPUTED,
        target=BillableEvent.Status.CREDITING,
        lease=LEASE,
    )
    if held is None:
        raise AppError(ErrorCode.CONFLICT, "This charge is not disputed.", status_code=409)
    event.refresh_from_db()
    method: str = BillableEvent.CreditMethod.NOT_REPORTED
    credit_id = ""
    try:
        if event.reported_at is not None:
            method, credit_id = _stripe_credit(event)
    except stripe_client.StripeError as error:
        transition(
            BillableEvent,
            event.pk,
            source=BillableEvent.Status.CREDITING,
            target=BillableEvent.Status.DISPUTED,
            token=held.token,
            last_error=error.message[:2000],
        )
        raise AppError(
            ErrorCode.CONFLICT, f"Stripe refused the credit: {error.message}", status_code=409
        ) from error
    with transaction.atomic():
        transition(
            BillableEvent,
            event.pk,
            source=BillableEvent.Status.CREDITING,
            target=BillableEvent.Status.CREDITED,
            token=held.token,
            credit_method=method,
            stripe_credit_id=credit_id,
            resolved_at=timezone.now(),
            resolution_note=note[:5000],
            last_error="",
        )
        activity_record(
            workspace=event.workspace_id,
            type="billing.event_credited",
            object_type="billable_event",
            object_id=event.pk,
            payload={"kind": event.kind, "price": str(event.price), "method": method},
        )
    event.refresh_from_db()
    return event


def _stripe_credit(event: BillableEvent) -> tuple[str, str]:
    """Cancel the meter event while Stripe allows it, else credit the balance. The same
    idempotency keys on a second try: a crediting that timed out is not paid twice."""
    assert event.reported_at is not None
    if timezone.now() - event.reported_at < CANCEL_WITHIN:
        stripe_client.meter_event_cancel(
            event_name=event.meter_event_name,
            identifier=event.stripe_identifier or str(event.pk),
            idempotency_key=f"sdr-meter-cancel-{event.pk}",
        )
        return BillableEvent.CreditMethod.METER_CANCEL, ""
    customer_id = event.stripe_customer_id or (
        BillingAccount.unscoped_objects.filter(workspace_id=event.workspace_id)
        .values_list("stripe_customer_id", flat=True)
        .first()
        or ""
    )
    credit_id = stripe_client.balance_credit(
        customer_id=customer_id,
        amount=event.price,
        currency=event.currency,
        description=f"Credit for disputed {event.kind.replace('_', ' ')} ({event.pk})",
        idempotency_key=f"sdr-credit-{event.pk}",
    )
    return BillableEvent.CreditMethod.BALANCE_CREDIT, credit_id


def _uphold(event: BillableEvent, note: str) -> BillableEvent:
    with transaction.atomic():
        event.refresh_from_db()
        # Never reported (disputed while pending): back to the outbox, to be reported.
        target = (
            BillableEvent.Status.UPHELD
            if event.reported_at is not None
            else BillableEvent.Status.PENDING
        )
        moved = transition(
            BillableEvent,
            event.pk,
            source=BillableEvent.Status.DISPUTED,
            target=target,
            resolved_at=timezone.now(),
            resolution_note=note[:5000],
            next_attempt_at=None,
        )
        if not moved:
            raise AppError(ErrorCode.CONFLICT, "This charge is not disputed.", status_code=409)
        activity_record(
            workspace=event.workspace_id,
            type="billing.dispute_rejected",
            object_type="billable_event",
            object_id=event.pk,
            payload={"kind": event.kind, "price": str(event.price), "status": target},
        )
    event.refresh_from_db()
    return event
