"""Campaigns end to end without a model: build, enroll, draft, review, feedback."""

from __future__ import annotations

import pytest

from leads.models import Lead
from outreach import campaigns, enrollment
from outreach.models import Campaign, Enrollment, Message, MessageFeedback
from sdr.errors import AppError
from sdr.models import Activity
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    FactFactory,
    LeadFactory,
    MessageFactory,
    OutcomeFactory,
    SequenceStepFactory,
)

CAMPAIGN = {
    "name": "Warehouse Q1",
    "product": "Pick-to-light carts that make picking faster",
    "value_propositions": ["Cuts picking labour by 30%"],
    "proof_points": ["Used in 40 warehouses"],
    "call_to_action": "Would a 15-minute call next week be useful?",
    "sender_name": "Sam",
    "sender_company": "Pickwell",
}


def error_of(response) -> dict:
    return response.json()["error"]


def test_a_campaign_is_created_with_a_default_sequence(api):
    response = api.post("/api/v1/campaigns/", CAMPAIGN, format="json")
    assert response.status_code == 201, response.json()
    steps = response.json()["steps"]
    assert [s["kind"] for s in steps] == ["first_touch", "follow_up", "break_up"]
    assert [s["order"] for s in steps] == [1, 2, 3]


def test_a_campaign_with_missing_fields_gets_field_errors(api):
    response = api.post("/api/v1/campaigns/", {"name": "x"}, format="json")
    assert response.status_code == 400
    details = error_of(response)["details"]
    assert {"product", "call_to_action"} <= set(details)


def test_a_sequence_must_start_with_a_first_touch(api):
    payload = {**CAMPAIGN, "steps": [{"kind": "follow_up"}]}
    response = api.post("/api/v1/campaigns/", payload, format="json")
    assert response.status_code == 400
    assert "first touch" in error_of(response)["message"]


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1, kind="first_touch")
    SequenceStepFactory(
        workspace=workspace, campaign=campaign, order=2, kind="follow_up", delay_business_days=3
    )
    return campaign


def test_enrolling_takes_eligible_leads_newest_first_and_drafts_them(
    api, workspace, campaign, django_capture_on_commit_callbacks
):
    older = LeadFactory(workspace=workspace)
    newer = LeadFactory(workspace=workspace)
    FactFactory(
        workspace=workspace,
        company=newer.company,
        field="description",
        value="builds robots for warehouses",
        confidence=0.8,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {"limit": 1}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["enrolled"] == 1
    enrollment = Enrollment.objects.for_workspace(workspace).get()
    assert enrollment.lead == newer
    message = Message.objects.for_workspace(workspace).get()
    assert message.status == Message.Status.PENDING_REVIEW
    assert message.drafter == "offline"
    assert "builds robots for warehouses" in message.body
    assert [str(f.pk) for f in message.cited_facts.all()] == message.angle["fact"].split()
    assert Lead.objects.for_workspace(workspace).get(pk=newer.pk).status == Lead.Status.ACTIVE
    assert Lead.objects.for_workspace(workspace).get(pk=older.pk).status == Lead.Status.NEW


def test_a_lead_active_in_another_campaign_is_never_enrolled(api, workspace, campaign):
    busy = LeadFactory(workspace=workspace)
    EnrollmentFactory(workspace=workspace, lead=busy)  # active elsewhere
    response = api.post(
        f"/api/v1/campaigns/{campaign.pk}/enroll/", {"lead_ids": [str(busy.pk)]}, format="json"
    )
    assert response.json()["enrolled"] == 0
    assert sum(response.json()["skipped"].values()) == 1


@pytest.mark.parametrize(
    "kind", ["unsubscribed", "bounced", "not_interested", "positive_reply", "meeting_booked"]
)
def test_leads_with_a_final_outcome_are_not_enrolled(api, workspace, campaign, kind):
    OutcomeFactory(workspace=workspace, kind=kind)
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json")
    assert response.json()["enrolled"] == 0


def test_a_lead_whose_sequence_went_unanswered_may_be_enrolled_again(api, workspace, campaign):
    OutcomeFactory(workspace=workspace, kind="no_response")
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json")
    assert response.json()["enrolled"] == 1


def test_leads_without_email_are_not_enrolled(api, workspace, campaign):
    LeadFactory(workspace=workspace, email="")
    assert (
        api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json").json()["enrolled"]
        == 0
    )


def test_the_database_refuses_a_second_active_enrollment(workspace):
    from django.db import IntegrityError, transaction

    lead = LeadFactory(workspace=workspace)
    EnrollmentFactory(workspace=workspace, lead=lead)
    with pytest.raises(IntegrityError), transaction.atomic():
        EnrollmentFactory(workspace=workspace, lead=lead)


def test_approving_with_edits_stores_the_edit_as_feedback(api, workspace):
    message = MessageFactory(workspace=workspace)
    original = message.body
    response = api.post(
        f"/api/v1/messages/{message.pk}/approve/",
        {"body": "Hi Dana, shorter and better. Worth a call?"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "approved"
    feedback = MessageFeedback.objects.for_workspace(workspace).get()
    assert feedback.kind == "edited"
    assert feedback.body_before == original
    assert feedback.body_after == "Hi Dana, shorter and better. Worth a call?"


def test_approving_as_written_is_feedback_too(api, workspace):
    message = MessageFactory(workspace=workspace)
    api.post(f"/api/v1/messages/{message.pk}/approve/", {}, format="json")
    assert MessageFeedback.objects.for_workspace(workspace).get().kind == "approved"


def test_rejecting_needs_a_reason_and_keeps_it(api, workspace):
    message = MessageFactory(workspace=workspace)
    response = api.post(f"/api/v1/messages/{message.pk}/reject/", {"reason": " "}, format="json")
    assert response.status_code == 400
    response = api.post(
        f"/api/v1/messages/{message.pk}/reject/", {"reason": "Wrong angle"}, format="json"
    )
    assert response.json()["status"] == "rejected"
    assert MessageFeedback.objects.for_workspace(workspace).get().reason == "Wrong angle"


def test_an_approved_message_cannot_be_reviewed_again(api, workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.APPROVED)
    response = api.post(f"/api/v1/messages/{message.pk}/reject/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_message_lists_stay_within_a_few_queries(api, workspace, django_assert_max_num_queries):
    for _ in range(5):
        message = MessageFactory(workspace=workspace)
        message.cited_facts.add(FactFactory(workspace=workspace))
    with django_assert_max_num_queries(8):
        response = api.get("/api/v1/messages/")
    assert len(response.json()["results"]) == 5


def test_colleagues_at_one_company_get_different_angles(
    api, workspace, campaign, django_capture_on_commit_callbacks
):
    from outreach.models import Message

    first = LeadFactory(workspace=workspace)
    LeadFactory(workspace=workspace, company=first.company)
    FactFactory(
        workspace=workspace,
        company=first.company,
        field="description",
        value="builds robots for warehouses",
        confidence=0.9,
    )
    FactFactory(
        workspace=workspace,
        company=first.company,
        field="industry",
        value="Industrial automation",
        confidence=0.9,
    )
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json")
    angles = [m.angle["fact"] for m in Message.objects.for_workspace(workspace)]
    assert len(angles) == 2 and len(set(angles)) == 2


def test_the_sequence_is_edited_on_the_campaign_page(web, workspace, campaign):
    response = web.post(
        f"/campaigns/{campaign.pk}/steps/",
        {
            "kind-0": "first_touch",
            "delay-0": "0",
            "kind-1": "follow_up",
            "delay-1": "2",
            "instructions-1": "Mention the case study",
            "kind-2": "break_up",
            "delay-2": "4",
        },
    )
    assert response.status_code == 302
    steps = list(
        campaign.steps.order_by("order").values_list("kind", "delay_business_days", "instructions")
    )
    assert steps == [
        ("first_touch", 0, ""),
        ("follow_up", 2, "Mention the case study"),
        ("break_up", 4, ""),
    ]


def test_a_bad_sequence_is_refused_with_the_reason(web, workspace, campaign):
    response = web.post(f"/campaigns/{campaign.pk}/steps/", {"kind-0": "follow_up"}, follow=True)
    assert b"The first step must be a first touch" in response.content
    response = web.post(
        f"/campaigns/{campaign.pk}/steps/",
        {"kind-0": "first_touch", "delay-0": "soon"},
        follow=True,
    )
    assert b"the delay is 0 to 60 business days" in response.content
    assert campaign.steps.count() == 2


def test_the_review_queue_shows_held_drafts_first(web, workspace):
    MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    held = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    assert web.get("/review/")["Location"] == f"/review/{held.pk}/"


# --- campaigns are archived, never deleted ------------------------------------------------


def test_deleting_a_campaign_is_not_an_operation_even_with_messages(api, workspace):
    message = MessageFactory(workspace=workspace)
    campaign = message.enrollment.campaign
    response = api.delete(f"/api/v1/campaigns/{campaign.pk}/")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert Campaign.objects.for_workspace(workspace).filter(pk=campaign.pk).exists()
    assert api.put(f"/api/v1/campaigns/{campaign.pk}/", CAMPAIGN, format="json").status_code == 405


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/enrollments/"),
        ("patch", "/api/v1/enrollments/{enrollment}/"),
        ("delete", "/api/v1/enrollments/{enrollment}/"),
        ("post", "/api/v1/messages/"),
        ("patch", "/api/v1/messages/{message}/"),
        ("delete", "/api/v1/messages/{message}/"),
    ],
)
def test_enrollments_and_messages_are_read_only_but_for_their_actions(api, workspace, method, url):
    message = MessageFactory(workspace=workspace)
    ids = {"enrollment": message.enrollment_id, "message": message.pk}
    assert getattr(api, method)(url.format(**ids), {}, format="json").status_code == 405


def test_archiving_stops_active_sequences_and_is_logged_once(api, workspace, campaign):
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign)
    Lead.objects.for_workspace(workspace).filter(pk=enrollment.lead_id).update(status="active")
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/archive/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "archived"
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", "Campaign archived")
    assert Lead.objects.for_workspace(workspace).get(pk=enrollment.lead_id).status == "new"
    assert api.post(f"/api/v1/campaigns/{campaign.pk}/archive/").status_code == 200
    archived = Activity.objects.for_workspace(workspace).filter(type="campaign.archived")
    assert [(a.object_id, a.payload["stopped_enrollments"]) for a in archived] == [
        (str(campaign.pk), 1)
    ]
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="enrollment.stopped", object_id=str(enrollment.pk))
        .exists()
    )


def test_no_lead_is_enrolled_into_an_archived_campaign(api, workspace, campaign):
    lead = LeadFactory(workspace=workspace)
    campaigns.campaign_archive(campaign=campaign)
    response = api.post(
        f"/api/v1/campaigns/{campaign.pk}/enroll/", {"lead_ids": [str(lead.pk)]}, format="json"
    )
    assert response.status_code == 409
    assert "archived" in error_of(response)["message"]
    assert not Enrollment.objects.for_workspace(workspace).exists()
    with pytest.raises(AppError):
        enrollment.campaign_enroll(campaign=campaign)


def test_archiving_through_an_edit_takes_the_same_path(api, workspace, campaign):
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"status": "archived"}, format="json")
    assert response.json()["status"] == "archived"
    assert Activity.objects.for_workspace(workspace).filter(type="campaign.archived").count() == 1


def test_an_archived_campaign_is_kept_as_it_was(api, workspace, campaign):
    campaigns.campaign_archive(campaign=campaign)
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 409
    campaign.refresh_from_db()
    assert campaign.name != "Renamed"


@pytest.mark.parametrize("status", ["draft", "paused", "active"])
def test_draft_paused_and_active_campaigns_take_leads(api, workspace, campaign, status):
    # Paused only holds sending back: drafts for new leads are written and reviewed.
    Campaign.objects.for_workspace(workspace).filter(pk=campaign.pk).update(status=status)
    LeadFactory(workspace=workspace)
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json")
    assert response.json()["enrolled"] == 1


def test_the_campaign_page_archives_with_a_button(web, workspace, campaign):
    page = web.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'action="/campaigns/{campaign.pk}/archive/"' in page and "data-confirm=" in page
    assert web.get(f"/campaigns/{campaign.pk}/archive/").status_code == 405
    response = web.post(f"/campaigns/{campaign.pk}/archive/", follow=True)
    assert b"is archived" in response.content
    assert b"Enroll and draft" not in response.content
    campaign.refresh_from_db()
    assert campaign.status == "archived"
    response = web.post(f"/campaigns/{campaign.pk}/enroll/", {"limit": "5"}, follow=True)
    assert b"no one can be enrolled" in response.content


# --- the step delay limit is the service's, so the API keeps it too -----------------------


@pytest.mark.parametrize("delay", [61, -1, 1000])
def test_the_api_refuses_a_step_delay_outside_0_to_60_business_days(api, workspace, delay):
    steps = [{"kind": "first_touch"}, {"kind": "follow_up", "delay_business_days": delay}]
    response = api.post("/api/v1/campaigns/", {**CAMPAIGN, "steps": steps}, format="json")
    assert response.status_code == 400
    assert not Campaign.objects.for_workspace(workspace).exists()


def test_the_sequence_service_enforces_the_delay_limit_for_every_caller(workspace, campaign):
    with pytest.raises(AppError, match="Step 2: the delay is 0 to 60 business days"):
        campaigns.sequence_set(
            campaign=campaign,
            steps=[{"kind": "first_touch"}, {"kind": "follow_up", "delay_business_days": 61}],
        )
    steps = campaigns.sequence_set(
        campaign=campaign,
        steps=[{"kind": "first_touch"}, {"kind": "follow_up", "delay_business_days": "60"}],
    )
    assert [s.delay_business_days for s in steps] == [0, 60]


def test_the_campaign_page_refuses_a_delay_over_60_business_days(web, workspace, campaign):
    response = web.post(
        f"/campaigns/{campaign.pk}/steps/",
        {"kind-0": "first_touch", "delay-0": "0", "kind-1": "follow_up", "delay-1": "61"},
        follow=True,
    )
    assert b"Step 2: the delay is 0 to 60 business days" in response.content
    assert list(campaign.steps.order_by("order").values_list("delay_business_days", flat=True)) == [
        0,
        3,
    ]


@pytest.mark.django_db(transaction=True)
def test_an_archive_that_commits_during_an_enrollment_leaves_no_one_enrolled():
    import threading

    from django.db import connection, transaction

    from outreach.campaigns import campaign_archive
    from sdr.errors import AppError
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory()
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign)
    LeadFactory(workspace=workspace)
    locked, release = threading.Event(), threading.Event()

    def archive_slowly() -> None:
        try:
            with transaction.atomic():
                campaign_archive(campaign=campaign)  # holds the campaign's row lock
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    archiver = threading.Thread(target=archive_slowly)
    archiver.start()
    assert locked.wait(10)
    threading.Timer(0.2, release.set).start()
    with pytest.raises(AppError, match="archived"):
        enrollment.campaign_enroll(campaign=campaign)  # waits for the archive, then refuses
    archiver.join(10)
    assert not Enrollment.objects.for_workspace(workspace).exists()


def test_the_campaign_form_offers_monday_to_friday_ticked(web, workspace):
    html = web.get("/campaigns/new/").content.decode()
    ticked = [day for day in range(7) if f'value="{day}" id="id_send_days_{day}" checked' in html]
    assert ticked == [0, 1, 2, 3, 4], html[
        html.find("send_days") - 100 : html.find("send_days") + 900
    ]


def test_competitors_are_set_through_the_api_and_reach_the_drafting_brief(api, workspace):
    from outreach.briefs_from_db import campaign_brief

    payload = {**CAMPAIGN, "competitors": ["Locus Robotics", "Geek+"]}
    response = api.post("/api/v1/campaigns/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["competitors"] == ["Locus Robotics", "Geek+"]
    campaign = Campaign.objects.for_workspace(workspace).get(pk=response.json()["id"])
    assert campaign_brief(campaign).competitors == ("Locus Robotics", "Geek+")

    too_long = {**CAMPAIGN, "competitors": ["x" * 201]}
    response = api.post("/api/v1/campaigns/", too_long, format="json")
    assert response.status_code == 400
    assert "competitors" in error_of(response)["details"]


def test_the_campaign_page_polls_while_drafts_are_being_written(web, workspace):
    from outreach.models import Message
    from tests.factories import MessageFactory

    writing = MessageFactory(workspace=workspace, status=Message.Status.DRAFTING)
    campaign = writing.enrollment.campaign
    page = web.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Writing 1 draft now" in page
    assert f'hx-get="/campaigns/{campaign.pk}/counts/"' in page

    Message.objects.for_workspace(workspace).filter(pk=writing.pk).update(
        status=Message.Status.PENDING_REVIEW
    )
    box = web.get(f"/campaigns/{campaign.pk}/counts/").content.decode()
    assert "Writing" not in box and "hx-get" not in box  # done: it stops asking
    assert "Waiting for review: 1" in box and "Review now" in box
