"""Stripe webhooks: signed, stored once by id, handled once, out-of-order safe."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.ledger import account_for
from billing.models import BillingAccount, StripeEvent
from billing.spend import sending_holds
from sdr.models import Activity, Workspace
from tests.stripe_server import FakeStripe, signed, stripe_event

pytestmark = pytest.mark.django_db
URL = "/billing/stripe/webhook/"
SECRET = "whsec_loopback"


def deliver(
    client: Client,
    event: dict[str, Any],
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    payload, header = signed(event, secret, timestamp=timestamp)
    return client.post(
        URL, data=body or payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def subscription(
    account: BillingAccount, *, status: str, created: int = 1_700_000_000, sub_id: str = "sub_1"
) -> dict[str, Any]:
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": account.stripe_customer_id,
        "status": status,
        "created": created,
        "items": {"data": [{"current_period_end": 1_900_000_000}]},
    }


@pytest.fixture
def account(workspace: Workspace, stripe_server: FakeStripe) -> BillingAccount:
    account = account_for(workspace)
    account.stripe_customer_id = stripe_server.customer_add()
    account.save()
    return account


def test_checkout_completed_links_the_workspace_to_its_customer_and_subscription(
    client: Client, workspace: Workspace, stripe_server: FakeStripe
) -> None:
    event = stripe_event(
        "checkout.session.completed",
        {
            "id": "cs_1",
            "object": "checkout.session",
            "client_reference_id": str(workspace.pk),
            "customer": "cus_new",
            "subscription": "sub_new",
        },
    )

    response = deliver(client, event)

    assert response.status_code == 200
    account = BillingAccount.objects.for_workspace(workspace).get()
    assert (account.stripe_customer_id, account.stripe_subscription_id) == ("cus_new", "sub_new")
    assert StripeEvent.objects.get(pk=event["id"]).result == StripeEvent.Result.HANDLED


def test_a_repeated_event_is_answered_2xx_and_not_handled_again(
    client: Client, account: BillingAccount
) -> None:
    event = stripe_event(
        "invoice.payment_failed", {"id": "in_1", "customer": account.stripe_customer_id}
    )

    first, second = deliver(client, event), deliver(client, event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"result": "duplicate"}
    assert StripeEvent.objects.filter(pk=event["id"]).count() == 1
    failed = Activity.objects.for_workspace(account.workspace).filter(type="billing.payment_failed")
    assert failed.count() == 1


@pytest.mark.parametrize("how", ["tampered", "wrong secret", "stale", "no header"])
def test_a_bad_signature_is_refused_with_400_and_nothing_is_stored(
    client: Client, account: BillingAccount, how: str
) -> None:
    event = stripe_event("invoice.paid", {"id": "in_1", "customer": account.stripe_customer_id})
    if how == "tampered":
        payload, header = signed(event, SECRET)
        response = client.post(
            URL,
            data=payload.replace(b"invoice.paid", b"invoice.payment_failed"),
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
    elif how == "wrong secret":
        response = deliver(client, event, secret="whsec_other")
    elif how == "stale":
        response = deliver(client, event, timestamp=int(time.time()) - 3600)
    else:
        response = client.post(URL, data=b"{}", content_type="application/json")

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_older_subscription_update_arriving_late_does_not_overwrite_a_newer_one(
    client: Client, account: BillingAccount
) -> None:
    now = int(time.time())
    newer = stripe_event(
        "customer.subscription.updated", subscription(account, status="active"), created=now
    )
    older = stripe_event(
        "customer.subscription.updated",
        subscription(account, status="past_due"),
        created=now - 60,
    )

    deliver(client, newer)
    response = deliver(client, older)

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.subscription_status == "active"
    assert StripeEvent.objects.get(pk=older["id"]).result == StripeEvent.Result.IGNORED


def test_a_late_created_event_does_not_take_the_subscription_back(
    client: Client, account: BillingAccount
) -> None:
    now = int(time.time())
    deliver(
        client,
        stripe_event(
            "customer.subscription.updated", subscription(account, status="active"), created=now
        ),
    )
    deliver(
        client,
        stripe_event(
            "customer.subscription.created", subscription(account, status="incomplete"), created=now
        ),
    )

    account.refresh_from_db()
    assert account.subscription_status == "active"


def test_a_canceled_subscription_stays_canceled_and_an_older_subscription_is_ignored(
    client: Client, account: BillingAccount
) -> None:
    now = int(time.time())
    deliver(
        client,
        stripe_event(
            "customer.subscription.deleted",
            subscription(account, status="canceled", created=now - 10, sub_id="sub_2"),
            created=now,
        ),
    )
    deliver(
        client,
        stripe_event(
            "customer.subscription.updated",
            subscription(account, status="active", created=now - 10, sub_id="sub_2"),
            created=now,
        ),
    )
    deliver(
        client,
        stripe_event(
            "customer.subscription.updated",
            subscription(account, status="active", created=now - 999, sub_id="sub_old"),
            created=now + 5,
        ),
    )

    account.refresh_from_db()
    assert (account.stripe_subscription_id, account.subscription_status) == ("sub_2", "canceled")


def test_a_failed_payment_pauses_sending_after_the_grace_period_until_paid(
    client: Client, account: BillingAccount
) -> None:
    now = int(time.time())
    failed_at = now - 4 * 24 * 3600  # past the plan's 3 days
    deliver(
        client,
        stripe_event(
            "invoice.payment_failed",
            {"id": "in_1", "customer": account.stripe_customer_id},
            created=failed_at,
        ),
    )

    holds = sending_holds(now=timezone.now())
    assert "payment failed" in holds[account.workspace_id]
    assert not sending_holds(now=timezone.now() - timedelta(days=2))  # within the grace

    deliver(
        client,
        stripe_event(
            "invoice.paid", {"id": "in_1", "customer": account.stripe_customer_id}, created=now
        ),
    )
    assert sending_holds(now=timezone.now()) == {}


def test_a_payment_failure_older_than_the_payment_already_seen_changes_nothing(
    client: Client, account: BillingAccount
) -> None:
    now = int(time.time())
    deliver(
        client,
        stripe_event(
            "invoice.paid", {"id": "in_1", "customer": account.stripe_customer_id}, created=now
        ),
    )
    deliver(
        client,
        stripe_event(
            "invoice.payment_failed",
            {"id": "in_1", "customer": account.stripe_customer_id},
            created=now - 30,
        ),
    )

    account.refresh_from_db()
    assert account.payment_failed_at is None


@pytest.mark.parametrize(
    "event",
    [
        # A thin (v2) event as an event destination sends it: no snapshot, a related object.
        {
            "id": "evt_thin_1",
            "object": "v2.core.event",
            "type": "v1.billing.meter.error_report_triggered",
            "created": "2026-12-01T07:00:00.000Z",
            "related_object": {
                "id": "mtr_1",
                "type": "billing.meter",
                "url": "/v1/billing/meters/mtr_1",
            },
        },
        stripe_event(
            "billing.meter.error_report_triggered",
            {
                "id": "mtr_1",
                "object": "billing.meter",
                "reason": {
                    "error_count": 2,
                    "error_types": [{"code": "meter_event_no_customer_defined"}],
                },
            },
        ),
    ],
)
def test_meter_error_reports_are_recorded(
    client: Client, event: dict[str, Any], stripe_server: FakeStripe
) -> None:
    response = deliver(client, event)

    assert response.status_code == 200
    row = StripeEvent.objects.get(pk=event["id"])
    assert row.result == StripeEvent.Result.HANDLED
    assert "mtr_1" in row.detail


def test_an_event_type_without_a_handler_is_stored_and_answered_2xx(
    client: Client, stripe_server: FakeStripe
) -> None:
    event = stripe_event("customer.created", {"id": "cus_x"})

    assert deliver(client, event).status_code == 200
    assert StripeEvent.objects.get(pk=event["id"]).result == StripeEvent.Result.IGNORED


def test_webhooks_are_refused_while_no_webhook_secret_is_set(client: Client, settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert deliver(client, stripe_event("invoice.paid", {"id": "in_1"})).status_code == 400
