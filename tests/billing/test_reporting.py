"""The outbox: pending ledger rows become exactly one Stripe meter event each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.models import BillableEvent
from billing.reporting import ReportOutcome, event_report, events_report_pending
from billing.tasks import report_event_task
from sdr.models import Workspace
from tests.billing.helpers import positive_reply, subscribed
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db
METER_EVENTS = "/v1/billing/meter_events"


def test_a_pending_event_is_sent_as_a_meter_event_identified_by_the_ledger_row(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    account = subscribed(workspace, stripe_server)
    event = positive_reply(workspace)

    report = events_report_pending()

    assert report.outcomes == {"reported": 1}
    sent = stripe_server.meter_events[str(event.pk)]
    assert sent["event_name"] == "sdr_positive_reply"
    assert sent["payload"] == {"stripe_customer_id": account.stripe_customer_id, "value": "1"}
    assert sent["timestamp"] == int(event.occurred_at.timestamp())
    request = next(r for r in stripe_server.requests if r.path == METER_EVENTS)
    assert request.headers["idempotency-key"] == f"sdr-meter-event-{event.pk}"
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    assert event.reported_at is not None
    assert event.stripe_customer_id == account.stripe_customer_id


def test_a_celery_retry_after_a_timeout_that_reached_stripe_makes_no_second_meter_event(
    workspace: Workspace, stripe_server: FakeStripe, settings: Any
) -> None:
    # Given Stripe records the event but answers after the client gave up
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    settings.STRIPE_TIMEOUT = 0.5
    stripe_server.delay_next(METER_EVENTS, 1.5)

    # When the task runs, times out, and Celery retries it
    # (eager: Celery runs the retry at once instead of after its countdown)
    outcome = report_event_task.apply(args=[str(event.pk)], throw=False).get()

    # Then the retry got Stripe's first answer again: one meter event, reported once
    assert outcome == ReportOutcome.REPORTED
    assert stripe_server.paths().count(METER_EVENTS) == 2
    assert len(stripe_server.meter_events) == 1
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    assert event.attempts == 2


def test_an_identifier_stripe_already_holds_counts_as_reported(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    # Given Stripe has the event from an attempt whose idempotency key has since expired
    account = subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    stripe_server.meter_events[str(event.pk)] = {
        "event_name": "sdr_positive_reply",
        "identifier": str(event.pk),
        "payload": {"stripe_customer_id": account.stripe_customer_id, "value": "1"},
        "timestamp": int(event.occurred_at.timestamp()),
    }

    result = event_report(event_id=event.pk)

    assert result.outcome == ReportOutcome.REPORTED
    assert len(stripe_server.meter_events) == 1
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED


def test_a_server_error_goes_back_to_pending_with_a_backoff(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    stripe_server.fail_next(METER_EVENTS, 503, "Stripe is having a moment")

    result = event_report(event_id=event.pk)

    assert result.outcome == ReportOutcome.RETRY
    assert result.retry_in is not None and result.retry_in > 0
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.PENDING
    assert "Stripe is having a moment" in event.last_error
    assert event.next_attempt_at is not None and event.next_attempt_at > timezone.now()
    # Not due yet: the next pass leaves it alone
    assert events_report_pending().outcomes == {}
    assert stripe_server.meter_events == {}


def test_an_event_failing_transiently_too_often_is_marked_failed(
    workspace: Workspace, stripe_server: FakeStripe, settings: Any
) -> None:
    settings.BILLING_REPORT_MAX_ATTEMPTS = 2
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    for _ in range(2):
        stripe_server.fail_next(METER_EVENTS, 500)
        event_report(event_id=event.pk, force=True)

    event.refresh_from_db()
    assert event.status == BillableEvent.Status.FAILED


def test_a_permanent_error_marks_the_event_failed_with_the_reason(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    stripe_server.fail_next(METER_EVENTS, 400, "No such customer: 'cus_gone'")

    assert event_report(event_id=event.pk).outcome == ReportOutcome.FAILED
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.FAILED
    assert "No such customer" in event.last_error


def test_events_wait_for_a_stripe_customer_and_go_once_one_is_linked(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    event = positive_reply(workspace)

    assert event_report(event_id=event.pk).outcome == ReportOutcome.WAITING
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.PENDING
    assert stripe_server.meter_events == {}

    customer = stripe_server.customer_add()
    call_command("billing_set_customer", workspace=workspace.slug, customer=customer)
    call_command("billing_report")

    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    assert stripe_server.meter_events[str(event.pk)]["payload"]["stripe_customer_id"] == customer


def test_a_reporting_row_whose_worker_died_is_sent_again_safely(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    from sdr.states import sweep

    subscribed(workspace, stripe_server)
    event = positive_reply(workspace)
    event_report(event_id=event.pk)  # reached Stripe
    # A worker claimed it again and died before recording (simulated lease run out)
    BillableEvent.objects.for_workspace(workspace).filter(pk=event.pk).update(
        status=BillableEvent.Status.REPORTING,
        claimed_until=timezone.now() - timedelta(minutes=1),
    )

    sweep()
    event_report(event_id=event.pk)

    event.refresh_from_db()
    assert event.status == BillableEvent.Status.REPORTED
    assert len(stripe_server.meter_events) == 1
