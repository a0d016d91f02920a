"""The ledger: one billable event per lead and kind, with its evidence and price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from billing.models import BillableEvent
from outreach.models import Outcome
from outreach.outcomes import outcome_record
from sdr.models import Activity, Workspace
from tests.billing.helpers import make_lead

pytestmark = pytest.mark.django_db


def test_a_positive_reply_becomes_one_billable_event_with_evidence_and_price(
    workspace: Workspace,
) -> None:
    lead = make_lead(workspace)

    outcome, _ = outcome_record(
        lead=lead,
        kind=Outcome.Kind.POSITIVE_REPLY,
        evidence="Yes, let's talk Thursday.",
        source=Outcome.Source.REPLY,
        evidence_type="reply",
        evidence_id="42",
    )

    event = BillableEvent.objects.for_workspace(workspace).get()
    assert event.outcome == outcome
    assert event.lead == lead
    assert event.evidence == "Yes, let's talk Thursday."
    assert (event.evidence_type, event.evidence_id) == ("reply", "42")
    assert event.price == Decimal("9.00")
    assert event.status == BillableEvent.Status.PENDING
    assert event.meter_event_name == "sdr_positive_reply"
    assert Activity.objects.for_workspace(workspace).filter(type="billing.event_recorded").exists()


def test_the_same_leads_second_positive_reply_is_not_billed_again(workspace: Workspace) -> None:
    lead = make_lead(workspace)
    for text in ["Interested!", "Still interested, to be clear."]:
        outcome_record(
            lead=lead, kind=Outcome.Kind.POSITIVE_REPLY, evidence=text, source=Outcome.Source.REPLY
        )

    assert BillableEvent.objects.for_workspace(workspace).count() == 1


def test_outcomes_the_plan_does_not_bill_make_no_event(workspace: Workspace) -> None:
    lead = make_lead(workspace)
    outcome_record(
        lead=lead, kind=Outcome.Kind.NOT_INTERESTED, evidence="No thanks", source=Outcome.Source.UI
    )

    assert not BillableEvent.objects.for_workspace(workspace).exists()


def test_a_meeting_is_billed_besides_the_positive_reply(workspace: Workspace) -> None:
    lead = make_lead(workspace)
    for kind in [Outcome.Kind.POSITIVE_REPLY, Outcome.Kind.MEETING_BOOKED]:
        outcome_record(lead=lead, kind=kind, evidence="proof", source=Outcome.Source.API)

    prices = dict(BillableEvent.objects.for_workspace(workspace).values_list("kind", "price"))
    assert prices == {"positive_reply": Decimal("9.00"), "meeting_booked": Decimal("75.00")}


def test_with_billing_off_the_ledger_records_and_nothing_is_sent(
    workspace: Workspace, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    lead = make_lead(workspace)
    outcome_record(lead=lead, kind=Outcome.Kind.POSITIVE_REPLY, evidence="yes", source="reply")

    event = BillableEvent.objects.for_workspace(workspace).get()
    assert event.status == BillableEvent.Status.PENDING
