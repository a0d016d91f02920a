"""The one module that talks to Stripe (STYLE.md, habit 8): SDK objects never leave it.

The client is built with explicit timeouts and network retries, and its API base from
`STRIPE_API_BASE` (tests point the real SDK at tests/stripe_server.py). Errors come out
as two types: `StripeTransient` (try again later: timeouts, connection errors, 429, 5xx,
409) and `StripePermanent` (the request is wrong and will stay wrong); a meter event whose
identifier Stripe already holds is `DuplicateIdentifier`, which for us means "reported".
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)


class StripeError(Exception):
    def __init__(self, message: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class StripeTransient(StripeError):
    """Worth trying again later (with the same idempotency key)."""


class StripePermanent(StripeError):
    """Trying again will not help: the request or the configuration is wrong."""


class DuplicateIdentifier(StripePermanent):
    """Stripe already holds a meter event with this identifier."""


def billing_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@functools.cache
def _client(api_key: str, api_base: str, retries: int, connect: float, read: float) -> Any:
    # The SDK's default transport (requests, a dependency of the SDK), with our timeouts
    # in place of its 80 s default.
    http_client = stripe.RequestsClient(timeout=(connect, read))
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        # The API version is the one this SDK release is pinned to (stripe.api_version),
        # so the account's default version cannot change the shapes we read.
        http_client=http_client,
    )


def client() -> Any:
    """The SDK client for the current settings (one per process and settings, so its
    connection pool is reused)."""
    if not settings.STRIPE_SECRET_KEY:
        raise StripePermanent("Billing is off: STRIPE_SECRET_KEY is not set.", code="billing_off")
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_CONNECT_TIMEOUT,
        settings.STRIPE_TIMEOUT,
    )


def _call(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SDK call and translate its errors; the message never carries the key."""
    try:
        return func(*args, **kwargs)
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise StripeTransient(
            _message(error), code=error.code or "", status=error.http_status
        ) from error
    except stripe.StripeError as error:
        status = error.http_status
        message = _message(error)
        if status is not None and (status >= 500 or status == 409):
            raise StripeTransient(message, code=error.code or "", status=status) from error
        if _is_duplicate_identifier(error):
            raise DuplicateIdentifier(message, code=error.code or "", status=status) from error
        raise StripePermanent(message, code=error.code or "", status=status) from error


def _message(error: stripe.StripeError) -> str:
    return f"{type(error).__name__}: {error.user_message or str(error)}"[:500]


def _is_duplicate_identifier(error: stripe.StripeError) -> bool:
    # Stripe answers a repeated meter event identifier with a 400 invalid_request_error:
    # "An event already exists with identifier ...".
    text = (error.user_message or str(error)).lower()
    return error.http_status == 400 and (
        error.code == "duplicate_meter_event" or "already exists with identifier" in text
    )


# --- meter events ----------------------------------------------------------------------


def meter_event_create(
    *,
    event_name: str,
    identifier: str,
    customer_id: str,
    value: int,
    timestamp: datetime,
    idempotency_key: str,
) -> str:
    """Send one meter event; returns its identifier."""
    result = _call(
        client().v1.billing.meter_events.create,
        {
            "event_name": event_name,
            "identifier": identifier,
            "timestamp": int(timestamp.timestamp()),
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
        },
        {"idempotency_key": idempotency_key},
    )
    return str(result.identifier)


def meter_event_cancel(*, event_name: str, identifier: str, idempotency_key: str) -> None:
    """Cancel a meter event (Stripe allows it within 24 hours of its receipt)."""
    _call(
        client().v1.billing.meter_event_adjustments.create,
        {"event_name": event_name, "type": "cancel", "cancel": {"identifier": identifier}},
        {"idempotency_key": idempotency_key},
    )


def balance_credit(
    *, customer_id: str, amount: Decimal, currency: str, description: str, idempotency_key: str
) -> str:
    """Credit the customer's balance (taken off their next invoice); returns its id."""
    result = _call(
        client().v1.customers.balance_transactions.create,
        customer_id,
        {
            "amount": -int(amount * 100),
            "currency": currency,
            "description": description[:350],
        },
        {"idempotency_key": idempotency_key},
    )
    return str(result.id)


@dataclass(frozen=True)
class Meter:
    id: str
    event_name: str
    display_name: str
    status: str


def meters_list() -> list[Meter]:
    meters = _call(client().v1.billing.meters.list, {"limit": 100})
    return [Meter(m.id, m.event_name, m.display_name, m.status) for m in meters.auto_paging_iter()]


def meter_create(*, event_name: str, display_name: str) -> Meter:
    meter = _call(
        client().v1.billing.meters.create,
        {
            "display_name": display_name,
            "event_name": event_name,
            "default_aggregation": {"formula": "count"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        {"idempotency_key": f"sdr-meter-{event_name}"},
    )
    return Meter(meter.id, meter.event_name, meter.display_name, meter.status)


def meter_update(*, meter_id: str, display_name: str) -> None:
    _call(client().v1.billing.meters.update, meter_id, {"display_name": display_name})


def meter_event_count(
    *, meter_id: str, customer_id: str, start: datetime, end: datetime
) -> Decimal:
    """Stripe's aggregated value for a customer between two minute-aligned times."""
    summaries = _call(
        client().v1.billing.meters.event_summaries.list,
        meter_id,
        {
            "customer": customer_id,
            "start_time": int(start.timestamp()),
            "end_time": int(end.timestamp()),
        },
    )
    return sum((Decimal(str(s.aggregated_value)) for s in summaries.auto_paging_iter()), Decimal(0))


# --- catalog ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    id: str
    lookup_key: str
    unit_amount: int | None
    currency: str
    active: bool


def product_ensure(*, product_id: str, name: str) -> bool:
    """Create the product, or bring its name up to date; True if created."""
    try:
        product = client().v1.products.retrieve(product_id)
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            _call(_raise, error)
        _call(client().v1.products.create, {"id": product_id, "name": name})
        return True
    except stripe.StripeError as error:
        _call(_raise, error)
        raise  # not reached: _call raised the translated error
    if product.name != name:
        _call(client().v1.products.update, product_id, {"name": name})
    return False


def _raise(error: Exception) -> None:
    raise error


def prices_by_lookup_key(lookup_keys: list[str]) -> dict[str, Price]:
    prices = _call(
        client().v1.prices.list, {"lookup_keys": lookup_keys, "active": True, "limit": 100}
    )
    return {
        p.lookup_key: Price(p.id, p.lookup_key, p.unit_amount, p.currency, p.active)
        for p in prices.auto_paging_iter()
    }


def price_create(
    *,
    product_id: str,
    lookup_key: str,
    unit_amount: int,
    currency: str,
    meter_id: str | None = None,
) -> Price:
    """A monthly price; metered when `meter_id` is given. `transfer_lookup_key` moves the
    lookup key from an older price, so a changed amount is a new price under the same key."""
    params: dict[str, Any] = {
        "product": product_id,
        "currency": currency,
        "unit_amount": unit_amount,
        "lookup_key": lookup_key,
        "transfer_lookup_key": True,
        "recurring": {"interval": "month"},
    }
    if meter_id is not None:
        params["recurring"] = {"interval": "month", "usage_type": "metered", "meter": meter_id}
    p = _call(client().v1.prices.create, params)
    return Price(p.id, p.lookup_key, p.unit_amount, p.currency, p.active)


# --- customers, checkout, portal, invoices ---------------------------------------------


def customer_exists(customer_id: str) -> bool:
    try:
        customer = client().v1.customers.retrieve(customer_id)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return False
        _call(_raise, error)
        raise
    except stripe.StripeError as error:
        _call(_raise, error)
        raise
    return not getattr(customer, "deleted", False)


def checkout_session_create(
    *,
    workspace_id: str,
    customer_id: str,
    price_ids: list[str],
    base_price_id: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """A Checkout session that starts the subscription; returns its URL."""
    line_items: list[dict[str, Any]] = [{"price": base_price_id, "quantity": 1}]
    line_items += [{"price": price_id} for price_id in price_ids]  # metered: no quantity
    params: dict[str, Any] = {
        "mode": "subscription",
        "client_reference_id": workspace_id,
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "subscription_data": {"metadata": {"workspace_id": workspace_id}},
        "metadata": {"workspace_id": workspace_id},
    }
    if customer_id:
        params["customer"] = customer_id
    session = _call(client().v1.checkout.sessions.create, params)
    return str(session.url)


def portal_session_create(*, customer_id: str, return_url: str) -> str:
    session = _call(
        client().v1.billing_portal.sessions.create,
        {"customer": customer_id, "return_url": return_url},
    )
    return str(session.url)


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    status: str
    total: Decimal
    currency: str
    created: datetime
    hosted_invoice_url: str


def invoices_list(*, customer_id: str, limit: int = 12) -> list[Invoice]:
    invoices = _call(client().v1.invoices.list, {"customer": customer_id, "limit": limit})
    return [
        Invoice(
            i.id,
            i.number or "",
            i.status or "",
            Decimal(i.total or 0) / 100,
            i.currency,
            datetime.fromtimestamp(i.created, tz=UTC),
            i.hosted_invoice_url or "",
        )
        for i in invoices.data
    ]


# --- webhooks --------------------------------------------------------------------------


class BadSignature(Exception):
    pass


def webhook_verify(*, payload: bytes, signature: str) -> None:
    """Check the `Stripe-Signature` header against the raw body (HMAC-SHA256 with the
    endpoint secret, and a timestamp no older than the tolerance)."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BadSignature("Webhooks are off: STRIPE_WEBHOOK_SECRET is not set.")
    try:
        # The SDK's own check (what Webhook.construct_event runs first). construct_event
        # itself refuses thin (v2) events such as v1.billing.meter.error_report_triggered,
        # and our handlers read the plain JSON of both kinds anyway.
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"),
            signature,
            secret,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
        json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise BadSignature(str(error)) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BadSignature(f"Not a JSON event: {error}") from error
