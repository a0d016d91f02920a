"""The catalog sync is idempotent; the nightly reconciliation finds differences."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.catalog import catalog_sync
from billing.models import BillableEvent, BillingDiscrepancy
from billing.plans import OUTCOME
from billing.reconcile import ledger_reconcile
from billing.reporting import events_report_pending
from sdr.models import Activity, Workspace
from tests.billing.helpers import positive_reply, subscribed
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


def test_the_catalog_sync_creates_meters_products_and_prices_once(
    stripe_server: FakeStripe, capsys: Any
) -> None:
    call_command("billing_sync_catalog")
    first = len(stripe_server.paths("POST"))

    report = catalog_sync()

    assert report.created == [] and report.updated == []
    assert len(stripe_server.paths("POST")) == first  # a second run sends no write
    meters = {m["event_name"]: m for m in stripe_server.meters.values()}
    assert set(meters) == {"sdr_positive_reply", "sdr_meeting_booked"}
    meter = meters["sdr_positive_reply"]
    assert meter["default_aggregation"] == {"formula": "count"}
    assert meter["customer_mapping"] == {
        "type": "by_id",
        "event_payload_key": "stripe_customer_id",
    }
    prices = {p["lookup_key"]: p for p in stripe_server.prices.values()}
    assert prices[OUTCOME.base_lookup_key]["unit_amount"] == 29900
    metered = prices["sdr_outcome_positive_reply"]
    assert metered["unit_amount"] == 900
    assert metered["recurring"] == {
        "interval": "month",
        "usage_type": "metered",
        "meter": meter["id"],
    }
    assert stripe_server.products["sdr_plan_outcome"]["name"] == "AI SDR Outcome"


def test_a_changed_price_becomes_a_new_price_under_the_same_lookup_key(
    stripe_server: FakeStripe,
) -> None:
    catalog_sync()
    [old] = [p for p in stripe_server.prices.values() if p["unit_amount"] == 900]
    old["unit_amount"] = 500  # as if the plan had said 5.00 before

    report = catalog_sync()

    assert report.updated == ["price sdr_outcome_positive_reply"]
    holder = [
        p for p in stripe_server.prices.values() if p["lookup_key"] == "sdr_outcome_positive_reply"
    ]
    assert [p["unit_amount"] for p in holder] == [900]
    assert old["lookup_key"] is None  # the old price stays, for subscriptions on it


def test_reconciliation_agrees_when_stripe_holds_what_the_ledger_reported(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    subscribed(workspace, stripe_server)
    catalog_sync()
    for _ in range(2):
        positive_reply(workspace)
    events_report_pending()
    later = timezone.now() + timedelta(minutes=20)  # past the settling delay

    assert ledger_reconcile(now=later) == []


def test_reconciliation_reports_a_difference_in_the_activity_log(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    account = subscribed(workspace, stripe_server)
    catalog_sync()
    event = positive_reply(workspace)
    events_report_pending()
    # Stripe holds one event the ledger does not know about
    stripe_server.meter_events["stray"] = {
        **stripe_server.meter_events[str(event.pk)],
        "identifier": "stray",
    }

    [difference] = ledger_reconcile(now=timezone.now() + timedelta(minutes=20))

    assert (difference.ledger, difference.stripe) == (1, Decimal(2))
    assert difference.customer_id == account.stripe_customer_id
    row = BillingDiscrepancy.objects.for_workspace(workspace).get()
    assert row.meter_event_name == "sdr_positive_reply"
    assert (
        Activity.objects.for_workspace(workspace).filter(type="billing.reconcile_mismatch").exists()
    )


def test_a_meter_event_cancelled_after_a_dispute_is_not_expected_at_stripe(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    from billing.disputes import dispute_resolve, event_dispute

    subscribed(workspace, stripe_server)
    catalog_sync()
    event = positive_reply(workspace)
    events_report_pending()
    event.refresh_from_db()
    event_dispute(event=event, reason="wrong")
    dispute_resolve(event=event, credit=True)
    assert BillableEvent.objects.for_workspace(workspace).get().status == "credited"

    assert ledger_reconcile(now=timezone.now() + timedelta(minutes=20)) == []
