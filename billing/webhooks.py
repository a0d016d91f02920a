"""Stripe webhooks as an event log (STYLE.md, habit 9).

The signature is checked on the raw body; the event is stored under its Stripe id before
anything else, so a redelivery is found and answered 2xx without being handled again;
each type has one handler in `HANDLERS`, and what it did is recorded on the event row.
A handler that raised leaves the row FAILED and the answer 500, so Stripe delivers it
again and the next delivery handles it.

Stripe does not deliver in order. Subscription events apply only if they are not older
than the last one applied (the event's `created`), and never to an older subscription
than the account's; a canceled subscription stays canceled. Invoice events likewise:
a `payment_failed` older than the `paid` already seen changes nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from billing import stripe_client
from billing.models import BillingAccount, StripeEvent
from billing.reporting import events_requeue_for_customer
from sdr.activity import SYSTEM, activity_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Received:
    status: int  # the HTTP status to answer
    result: str  # handled, ignored, duplicate, failed
    detail: str = ""


Handled = tuple[str, str]  # (StripeEvent.Result, what was done)
Handler = Callable[[dict[str, Any], datetime], Handled]


def webhook_receive(*, payload: bytes, signature: str) -> Received:
    """Verify, store, and handle one delivery (raises BadSignature)."""
    stripe_client.webhook_verify(payload=payload, signature=signature)
    event = json.loads(payload)
    event_id, event_type = str(event.get("id", "")), str(event.get("type", ""))
    if not event_id or not event_type:
        raise stripe_client.BadSignature("The event has no id or type.")
    created = _when(event.get("created")) or timezone.now()
    try:
        with transaction.atomic():
            StripeEvent.objects.create(id=event_id, type=event_type, created=created, payload=event)
    except IntegrityError:
        pass  # delivered before: the row below says whether it was handled
    with transaction.atomic():
        # The row lock makes two simultaneous deliveries of one event take turns.
        row = StripeEvent.objects.select_for_update().get(pk=event_id)
        if row.result in (StripeEvent.Result.HANDLED, StripeEvent.Result.IGNORED):
            return Received(200, "duplicate", row.detail)
        handler = HANDLERS.get(event_type)
        result: str
        if handler is None:
            result, detail = StripeEvent.Result.IGNORED, "no handler for this type"
        else:
            try:
                with transaction.atomic():
                    result, detail = handler(_object(event), created)
            except Exception as error:
                # Recorded, not retried here: Stripe delivers again after our 500.
                logger.exception("Stripe webhook %s (%s) failed", event_id, event_type)
                result, detail = StripeEvent.Result.FAILED, f"{type(error).__name__}: {error}"
        row.result, row.detail, row.handled_at = result, detail[:2000], timezone.now()
        row.save(update_fields=["result", "detail", "handled_at"])
    status = 500 if result == StripeEvent.Result.FAILED else 200
    return Received(status, result, detail)


def _object(event: dict[str, Any]) -> dict[str, Any]:
    """The object a classic event is about; a thin (v2) event has no snapshot, so its
    own fields (related_object, reason) are what there is."""
    data = event.get("data")
    if isinstance(data, dict) and isinstance(data.get("object"), dict):
        return data["object"]
    return event


def _when(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        return parse_datetime(value)
    return None


def _account_by_customer(customer: Any, obj: dict[str, Any]) -> BillingAccount | None:
    if customer:
        account = BillingAccount.unscoped_objects.filter(stripe_customer_id=customer).first()
        if account is not None:
            return account
    workspace_id = (obj.get("metadata") or {}).get("workspace_id")
    if workspace_id:
        return _account_for_workspace(workspace_id)
    return None


def _account_for_workspace(workspace_id: str) -> BillingAccount | None:
    from billing.ledger import account_for
    from sdr.models import Workspace

    try:
        uuid.UUID(str(workspace_id))
    except ValueError:
        return None
    if not Workspace.objects.filter(pk=workspace_id).exists():
        return None
    return account_for(workspace_id)


# --- handlers --------------------------------------------------------------------------


def checkout_completed(obj: dict[str, Any], created: datetime) -> Handled:
    workspace_id = obj.get("client_reference_id") or (obj.get("metadata") or {}).get("workspace_id")
    account = _account_for_workspace(str(workspace_id)) if workspace_id else None
    if account is None:
        return StripeEvent.Result.IGNORED, "no workspace for this checkout session"
    account = BillingAccount.unscoped_objects.select_for_update().get(pk=account.pk)
    customer, subscription = obj.get("customer") or "", obj.get("subscription") or ""
    if customer and not account.stripe_customer_id:
        account.stripe_customer_id = customer
    if subscription and not account.stripe_subscription_id:
        account.stripe_subscription_id = subscription
    account.save(update_fields=["stripe_customer_id", "stripe_subscription_id", "updated_at"])
    _customer_linked(account)
    return StripeEvent.Result.HANDLED, f"workspace {account.workspace_id} linked to {customer}"


def _customer_linked(account: BillingAccount) -> None:
    """Events that waited for a customer are due now."""
    from billing.models import BillableEvent
    from billing.tasks import report_event_task
    from sdr.queue import hint_each_after_commit

    events_requeue_for_customer(workspace_id=account.workspace_id)
    if stripe_client.billing_enabled():
        pending = BillableEvent.unscoped_objects.filter(
            workspace_id=account.workspace_id, status=BillableEvent.Status.PENDING
        ).values_list("pk", flat=True)
        hint_each_after_commit(report_event_task, list(pending[:500]))


def subscription_changed(obj: dict[str, Any], created: datetime) -> Handled:
    account = _account_by_customer(obj.get("customer"), obj)
    if account is None:
        return StripeEvent.Result.IGNORED, "no workspace for this customer"
    account = BillingAccount.unscoped_objects.select_for_update().get(pk=account.pk)
    subscription_id = str(obj.get("id", ""))
    status = str(obj.get("status", ""))
    sub_created = _when(obj.get("created"))
    same = subscription_id == account.stripe_subscription_id
    if (
        not same
        and account.subscription_created_at is not None
        and sub_created is not None
        and sub_created < account.subscription_created_at
    ):
        return StripeEvent.Result.IGNORED, f"about an older subscription ({subscription_id})"
    if (
        same
        and account.subscription_event_at is not None
        and created < account.subscription_event_at
    ):
        return StripeEvent.Result.IGNORED, "older than the state already applied"
    if same and account.subscription_status == "canceled" and status != "canceled":
        return StripeEvent.Result.IGNORED, "the subscription was canceled already"
    # Newer API versions keep the period on the subscription's items.
    items: list[dict[str, Any]] = (obj.get("items") or {}).get("data") or [{}]
    period_end = _when(obj.get("current_period_end")) or _when(items[0].get("current_period_end"))
    previous = account.subscription_status
    account.stripe_subscription_id = subscription_id
    account.subscription_status = status
    account.subscription_created_at = sub_created or account.subscription_created_at
    account.subscription_event_at = created
    account.current_period_end = period_end or account.current_period_end
    if not account.stripe_customer_id and obj.get("customer"):
        account.stripe_customer_id = str(obj["customer"])
    account.save()
    if previous != status:
        activity_record(
            workspace=account.workspace_id,
            type="billing.subscription_changed",
            object_type="billing_account",
            object_id=account.pk,
            payload={"subscription": subscription_id, "from": previous, "to": status},
            actor=SYSTEM,
        )
    return (
        StripeEvent.Result.HANDLED,
        f"subscription {subscription_id}: {previous or '-'} → {status}",
    )


def subscription_created(obj: dict[str, Any], created: datetime) -> Handled:
    # A "created" that arrives after an "updated" of the same second must not take the
    # subscription back to its first status.
    account = _account_by_customer(obj.get("customer"), obj)
    if (
        account is not None
        and account.stripe_subscription_id == obj.get("id")
        and account.subscription_status
    ):
        return StripeEvent.Result.IGNORED, "the subscription is known already"
    return subscription_changed(obj, created)


def invoice_paid(obj: dict[str, Any], created: datetime) -> Handled:
    return _payment_state(obj, created, failed=False)


def invoice_payment_failed(obj: dict[str, Any], created: datetime) -> Handled:
    return _payment_state(obj, created, failed=True)


def _payment_state(obj: dict[str, Any], created: datetime, *, failed: bool) -> Handled:
    account = _account_by_customer(obj.get("customer"), obj)
    if account is None:
        return StripeEvent.Result.IGNORED, "no workspace for this customer"
    account = BillingAccount.unscoped_objects.select_for_update().get(pk=account.pk)
    if account.payment_event_at is not None and created < account.payment_event_at:
        return StripeEvent.Result.IGNORED, "older than the payment state already applied"
    was_failed = account.payment_failed_at is not None
    account.payment_event_at = created
    if failed and not was_failed:
        account.payment_failed_at = created
    elif not failed:
        account.payment_failed_at = None
    account.save(update_fields=["payment_failed_at", "payment_event_at", "updated_at"])
    if failed != was_failed:
        activity_record(
            workspace=account.workspace_id,
            type="billing.payment_failed" if failed else "billing.payment_recovered",
            object_type="billing_account",
            object_id=account.pk,
            payload={"invoice": str(obj.get("id", ""))},
            actor=SYSTEM,
        )
    verb = "failed" if failed else "paid"
    return StripeEvent.Result.HANDLED, f"invoice {obj.get('id', '')} {verb}"


def meter_error_report(obj: dict[str, Any], created: datetime) -> Handled:
    """Stripe found meter events it could not use (no customer, bad payload): our
    reporting is wrong somewhere. Logged loudly; the reconciliation shows the gap."""
    meter = (obj.get("related_object") or {}).get("id") or obj.get("meter") or obj.get("id")
    reason = (obj.get("data") or {}).get("reason") or obj.get("reason") or {}
    count = reason.get("error_count", "?") if isinstance(reason, dict) else "?"
    types = (
        [t.get("code", "") for t in reason.get("error_types", [])]
        if isinstance(reason, dict)
        else []
    )
    logger.error("Stripe meter %s reports %s invalid events: %s", meter, count, types)
    return StripeEvent.Result.HANDLED, f"meter {meter}: {count} invalid events {types}"


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": subscription_created,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "billing.meter.error_report_triggered": meter_error_report,
    "v1.billing.meter.error_report_triggered": meter_error_report,
}
