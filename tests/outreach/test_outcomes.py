"""Outcomes: one per lead and kind, with evidence; what follows from each."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from leads.contactability import suppressed_emails
from leads.models import Lead
from outreach.models import Enrollment, Outcome
from outreach.outcomes import outcome_record
from tests.factories import EnrollmentFactory, LeadFactory, WorkspaceFactory


def test_a_booked_meeting_answers_201_then_200_with_the_same_outcome(api, workspace):
    lead = LeadFactory(workspace=workspace)
    payload = {"lead": str(lead.pk), "kind": "meeting_booked", "evidence": "Booked in HubSpot"}
    first = api.post("/api/v1/outcomes/", payload, format="json")
    assert first.status_code == 201, first.content
    second = api.post("/api/v1/outcomes/", {**payload, "evidence": "again"}, format="json")
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["evidence"] == "Booked in HubSpot"
    assert Outcome.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"lead": None, "kind": "meeting_booked", "evidence": "x"}, "lead"),
        ({"lead": "not-a-uuid", "kind": "meeting_booked", "evidence": "x"}, "lead"),
        ({"kind": "sold", "evidence": "x"}, "kind"),
        ({"kind": "meeting_booked", "evidence": ""}, "evidence"),
    ],
)
def test_a_bad_outcome_gets_a_clear_400(api, workspace, payload, field):
    lead = LeadFactory(workspace=workspace)
    payload = {"lead": str(lead.pk), **payload}
    if payload["lead"] is None:
        del payload["lead"]
    response = api.post("/api/v1/outcomes/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_another_workspaces_lead_is_refused(api, other_workspace):
    lead = LeadFactory(workspace=other_workspace)
    response = api.post(
        "/api/v1/outcomes/",
        {"lead": str(lead.pk), "kind": "meeting_booked", "evidence": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert not Outcome.unscoped_objects.filter(lead=lead).exists()


def test_a_reply_stops_the_active_sequence_and_sets_the_stage(workspace):
    enrollment = EnrollmentFactory(workspace=workspace)
    outcome, _ = outcome_record(
        lead=enrollment.lead, kind="positive_reply", evidence="Yes, let's talk", source="reply"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    lead = Lead.objects.for_workspace(workspace).get()
    assert lead.status == Lead.Status.REPLIED
    assert lead.last_activity_at == outcome.occurred_at


@pytest.mark.parametrize("kind", ["unsubscribed", "bounced"])
def test_an_unsubscribe_or_bounce_suppresses_the_address(workspace, kind):
    lead = LeadFactory(workspace=workspace)
    outcome_record(lead=lead, kind=kind, evidence="evidence", source="system")
    assert suppressed_emails(workspace=workspace, emails=[lead.email]) == {lead.email}


def test_recording_writes_one_activity(api, workspace):
    lead = LeadFactory(workspace=workspace)
    for _ in range(2):
        outcome_record(lead=lead, kind="meeting_booked", evidence="x", source="api")
    feed = api.get("/api/v1/activities/", {"type": "outcome.created"}).json()["results"]
    assert len(feed) == 1
    assert feed[0]["payload"]["lead"] == str(lead.pk)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_recordings_make_one_outcome():
    workspace = WorkspaceFactory()
    lead = LeadFactory(workspace=workspace)
    barrier = threading.Barrier(4)
    results = []

    def record():
        try:
            barrier.wait(5)
            results.append(
                outcome_record(lead=lead, kind="positive_reply", evidence="yes", source="reply")
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert Outcome.objects.for_workspace(workspace).count() == 1
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({outcome.pk for outcome, _ in results}) == 1
