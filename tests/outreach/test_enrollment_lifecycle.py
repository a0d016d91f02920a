"""Campaign pause and resume, unenrolling leads, pausing and resuming one enrollment
(including one paused because a colleague answered)."""

from __future__ import annotations

import pytest

from leads.models import Lead
from outreach.enrollment_status import enrollments_move
from outreach.models import Campaign, Enrollment
from sdr.models import Activity
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    SequenceStepFactory,
)
from tests.locks import key_share_held, lock_timeout


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    campaign.mailboxes.add(MailboxFactory(workspace=workspace))
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1, kind="first_touch")
    return campaign


def _types(workspace) -> list[str]:
    return list(
        Activity.objects.for_workspace(workspace).order_by("id").values_list("type", flat=True)
    )


def test_a_campaign_is_paused_and_resumed_and_each_is_logged(api, workspace, campaign):
    paused = api.post(f"/api/v1/campaigns/{campaign.pk}/pause/")
    assert paused.status_code == 200, paused.content
    assert paused.json()["status"] == "paused"
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/pause/").json()["status"] == "paused"
    resumed = api.post(f"/api/v1/campaigns/{campaign.pk}/resume/")
    assert resumed.json()["status"] == "active"
    assert [t for t in _types(workspace) if t.startswith("campaign.")] == [
        "campaign.paused",
        "campaign.resumed",
    ]


def test_resuming_a_campaign_without_an_active_mailbox_is_a_409(api, workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.PAUSED)
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/resume/")
    assert response.status_code == 409
    assert "mailbox" in response.json()["error"]["message"]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED


def test_an_archived_campaign_cannot_be_resumed(api, workspace, campaign):
    api.post(f"/api/v1/campaigns/{campaign.pk}/archive/")
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/resume/").status_code == 409


def test_unenrolling_stops_the_named_leads_only(api, workspace, campaign):
    staying, leaving, paused = (
        EnrollmentFactory(workspace=workspace, campaign=campaign) for _ in range(3)
    )
    Enrollment.objects.for_workspace(workspace).filter(pk=paused.pk).update(status="paused")
    Lead.objects.for_workspace(workspace).filter(pk=leaving.lead_id).update(status="active")
    elsewhere = LeadFactory(workspace=workspace)
    response = api.post(
        f"/api/v1/campaigns/{campaign.pk}/unenroll/",
        {"lead_ids": [str(leaving.lead_id), str(paused.lead_id), str(elsewhere.pk)]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"stopped": 2}
    statuses = dict(Enrollment.objects.for_workspace(workspace).values_list("pk", "status"))
    assert statuses == {staying.pk: "active", leaving.pk: "stopped", paused.pk: "stopped"}
    assert Lead.objects.for_workspace(workspace).get(pk=leaving.lead_id).status == "new"
    assert _types(workspace).count("enrollment.stopped") == 2


def test_unenroll_needs_lead_ids(api, campaign):
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/unenroll/", {}, format="json")
    assert response.status_code == 400
    assert "lead_ids" in response.json()["error"]["details"]


def test_an_enrollment_is_paused_and_resumed(api, workspace, campaign):
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign)
    paused = api.post(f"/api/v1/enrollments/{enrollment.pk}/pause/")
    assert paused.status_code == 200, paused.content
    assert paused.json()["status"] == "paused"
    again = api.post(f"/api/v1/enrollments/{enrollment.pk}/pause/")
    assert again.status_code == 409
    assert "Only an active enrollment can be paused" in again.json()["error"]["message"]
    assert api.post(f"/api/v1/enrollments/{enrollment.pk}/resume/").json()["status"] == "active"
    assert [t for t in _types(workspace) if t.startswith("enrollment.")] == [
        "enrollment.paused",
        "enrollment.resumed",
    ]


def test_a_colleague_pause_can_be_resumed_unless_the_lead_went_active_elsewhere(
    api, workspace, campaign
):
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign)
    Enrollment.objects.for_workspace(workspace).filter(pk=enrollment.pk).update(
        status="paused", stop_reason="paused: a colleague at the same company answered"
    )
    EnrollmentFactory(workspace=workspace, lead=enrollment.lead)  # active in another campaign
    response = api.post(f"/api/v1/enrollments/{enrollment.pk}/resume/")
    assert response.status_code == 409
    assert "another campaign" in response.json()["error"]["message"]
    enrollment.refresh_from_db()
    assert enrollment.status == "paused"


@pytest.mark.django_db(transaction=True)
def test_stopping_sequences_never_waits_for_a_commit_checking_a_message_of_theirs():
    """A sequence step's new message is checked against its enrollment as it commits
    (KEY SHARE on the enrollment) while a reply or an archive stops that enrollment. A FOR
    UPDATE lock waited for it (the deadlock shape of the companies' research queue); a
    status change needs only FOR NO KEY UPDATE."""
    enrollment = EnrollmentFactory()
    with key_share_held(enrollment), lock_timeout():
        moved = enrollments_move(
            Enrollment.objects.for_workspace(enrollment.workspace).filter(pk=enrollment.pk),
            status=Enrollment.Status.STOPPED,
            reason="Replied",
            activity="enrollment.stopped",
        )
    assert moved == [(enrollment.pk, enrollment.lead_id)]
