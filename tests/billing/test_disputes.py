"""Disputes: inside the window, with a reason; our decision shows on both sides."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from billing.disputes import dispute_resolve, event_dispute
from billing.models import BillableEvent
from billing.reporting import events_report_pending
from sdr.errors import AppError
from sdr.models import Workspace
from tests.billing.helpers import positive_reply, subscribed
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(workspace: Workspace, stripe_server: FakeStripe) -> BillableEvent:
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    events_report_pending()
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    return event


def test_a_customer_disputes_a_charge_through_the_api_with_a_reason(
    api: APIClient, reported: BillableEvent
) -> None:
    response = api.post(
        f"/api/v1/billing/events/{reported.pk}/dispute/",
        {"reason": "This was an out-of-office reply."},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "disputed"
    reported.refresh_from_db()
    assert reported.dispute_reason == "This was an out-of-office reply."


def test_a_dispute_needs_a_reason(api: APIClient, reported: BillableEvent) -> None:
    response = api.post(f"/api/v1/billing/events/{reported.pk}/dispute/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_a_dispute_after_the_window_is_refused(api: APIClient, reported: BillableEvent) -> None:
    BillableEvent.objects.for_workspace(reported.workspace).filter(pk=reported.pk).update(
        occurred_at=timezone.now() - timedelta(days=8)
    )

    response = api.post(
        f"/api/v1/billing/events/{reported.pk}/dispute/", {"reason": "late"}, format="json"
    )

    assert response.status_code == 409
    reported.refresh_from_db()
    assert reported.status == BillableEvent.Status.REPORTED


def test_a_charge_cannot_be_disputed_twice(reported: BillableEvent) -> None:
    event_dispute(event=reported, reason="wrong")
    with pytest.raises(AppError) as error:
        event_dispute(event=reported, reason="still wrong")
    assert error.value.status_code == 409


def test_an_upheld_dispute_within_a_day_cancels_the_meter_event(
    reported: BillableEvent, stripe_server: FakeStripe
) -> None:
    event_dispute(event=reported, reason="not a real reply")

    call_command("billing_resolve_dispute", event=str(reported.pk), credit=True, note="agreed")

    reported.refresh_from_db()
    assert reported.status == BillableEvent.Status.CREDITED
    assert reported.credit_method == BillableEvent.CreditMethod.METER_CANCEL
    assert reported.resolution_note == "agreed"
    assert str(reported.pk) in stripe_server.cancelled
    assert stripe_server.live_events() == []


def test_an_upheld_dispute_after_a_day_credits_the_customers_balance(
    reported: BillableEvent, stripe_server: FakeStripe
) -> None:
    BillableEvent.objects.for_workspace(reported.workspace).filter(pk=reported.pk).update(
        reported_at=timezone.now() - timedelta(days=2)
    )
    event_dispute(event=reported, reason="duplicate of another lead")

    event = dispute_resolve(event=reported, credit=True)

    assert event.status == BillableEvent.Status.CREDITED
    assert event.credit_method == BillableEvent.CreditMethod.BALANCE_CREDIT
    [credit] = stripe_server.balance_transactions
    assert credit["amount"] == -900
    assert event.stripe_credit_id == credit["id"]
    assert stripe_server.cancelled == set()


def test_a_rejected_dispute_leaves_the_charge_upheld(
    reported: BillableEvent, stripe_server: FakeStripe
) -> None:
    event_dispute(event=reported, reason="meh")

    event = dispute_resolve(event=reported, credit=False, note="a real positive reply")

    assert event.status == BillableEvent.Status.UPHELD
    assert len(stripe_server.live_events()) == 1


def test_a_charge_disputed_before_it_was_reported_is_not_sent_while_disputed(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    event_dispute(event=event, reason="that was my colleague")

    events_report_pending()
    assert stripe_server.meter_events == {}

    # Upheld charge: back to the outbox, reported as usual
    dispute_resolve(event=event, credit=False)
    events_report_pending()
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    assert len(stripe_server.meter_events) == 1


def test_a_credited_charge_no_longer_counts_in_the_months_cost(
    web: Client, workspace: Workspace, stripe_server: FakeStripe
) -> None:
    from billing.spend import period_spend

    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    assert period_spend(workspace=workspace, now=timezone.now()) == Decimal("9.00")
    event_dispute(event=event, reason="wrong")
    dispute_resolve(event=event, credit=True)

    assert period_spend(workspace=workspace, now=timezone.now()) == Decimal(0)


def test_the_dispute_button_on_the_billing_page(
    web: Client, workspace: Workspace, stripe_server: FakeStripe
) -> None:
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)

    page = web.get("/billing/")
    assert f"/billing/events/{event.pk}/dispute/" in page.content.decode()
    response = web.post(f"/billing/events/{event.pk}/dispute/", {"reason": "not interested at all"})

    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.DISPUTED
    assert f"/billing/events/{event.pk}/dispute/" not in web.get("/billing/").content.decode()


def test_staff_decide_disputes_from_the_admin(
    admin_client: Client, reported: BillableEvent, stripe_server: FakeStripe
) -> None:
    event_dispute(event=reported, reason="an auto-reply")

    response = admin_client.post(
        "/admin/billing/billableevent/",
        {"action": "dispute_credit", "_selected_action": [str(reported.pk)]},
    )

    assert response.status_code == 302
    reported.refresh_from_db()
    assert reported.status == BillableEvent.Status.CREDITED
