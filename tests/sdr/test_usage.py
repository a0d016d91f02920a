"""GET /api/v1/usage/: what the workspace has and what happened in a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from outreach.models import Message, Outcome
from tests.factories import CompanyFactory, LeadFactory, MessageFactory, OutcomeFactory


def test_usage_counts_the_period_and_the_totals(api, workspace):
    now = timezone.now()
    company = CompanyFactory(workspace=workspace, enrich_status="done", enriched_at=now)
    lead = LeadFactory(workspace=workspace, company=company)
    LeadFactory(workspace=workspace, company=company)
    MessageFactory(workspace=workspace, status=Message.Status.SENT, sent_at=now)
    MessageFactory(
        workspace=workspace, status=Message.Status.SENT, sent_at=now - timedelta(days=400)
    )
    OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.POSITIVE_REPLY)
    body = api.get(
        "/api/v1/usage/",
        {
            "start": (now - timedelta(days=1)).isoformat(),
            "end": (now + timedelta(days=1)).isoformat(),
        },
    ).json()
    assert body["messages"] == {"sent": 1}
    assert body["outcomes"]["by_kind"] == {"positive_reply": 1}
    assert body["companies"]["researched"] == 1
    # Made by the factories in this test: the leads, and those of the messages' enrollments.
    assert body["leads"]["added"] == body["leads"]["total"] >= 2
    assert body["replies"] == {"total": 0, "by_category": {}}


def test_usage_defaults_to_this_month(api):
    body = api.get("/api/v1/usage/").json()
    start = datetime.fromisoformat(body["period"]["start"].replace("Z", "+00:00"))
    assert (start.day, start.hour, start.minute) == (1, 0, 0)
    assert start.tzinfo is not None and start.utcoffset() == UTC.utcoffset(None)


def test_a_bad_period_is_a_400(api):
    assert api.get("/api/v1/usage/", {"start": "yesterday"}).status_code == 400
    backwards = api.get(
        "/api/v1/usage/", {"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    )
    assert backwards.status_code == 400
    assert "end" in backwards.json()["error"]["details"]
    too_long = api.get(
        "/api/v1/usage/", {"start": "2020-01-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    )
    assert too_long.status_code == 400
