"""The review queue releases real email now: its keys and buttons are safe, and an approval
can be taken back for a grace period before the dispatcher may send it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach import review
from outreach.models import Campaign, Message, MessageFeedback
from sdr.errors import AppError
from sdr.models import Activity
from tests.factories import FactFactory, LeadFactory, MessageFactory
from tests.sdr.test_settings import run_settings

GRACE = timedelta(seconds=120)


def fresh(message: Message) -> Message:
    return Message.unscoped_objects.get(pk=message.pk)


def error_of(response) -> dict:
    return response.json()["error"]


@pytest.fixture(autouse=True)
def _grace(settings):
    settings.APPROVAL_GRACE_SECONDS = 120


# --- approving starts the undo window -------------------------------------------------------


def test_approving_records_when_so_the_dispatcher_can_wait_out_the_undo_window(workspace, member):
    now = timezone.now()
    message = MessageFactory(workspace=workspace)
    review.message_approve(message=message, user=member, now=now)
    message = fresh(message)
    assert message.status == Message.Status.APPROVED
    assert message.approved_at == now
    assert review.undo_until(message) == now + GRACE


def test_approving_through_the_api_records_when(api, workspace):
    message = MessageFactory(workspace=workspace)
    response = api.post(f"/api/v1/messages/{message.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert fresh(message).approved_at is not None


def test_an_auto_sent_draft_is_approved_with_the_time_too(
    api, workspace, django_capture_on_commit_callbacks, settings
):
    settings.AUTO_SEND_MIN_REVIEW_SHARE = 0  # no sample: this draft must not be picked
    lead = LeadFactory(workspace=workspace)
    FactFactory(
        workspace=workspace,
        company=lead.company,
        field="description",
        value="builds autonomous pallet movers for warehouses",
        confidence=0.9,
    )
    campaign = api.post(
        "/api/v1/campaigns/",
        {
            "name": "Auto",
            "product": "Pick-to-light carts",
            "call_to_action": "Worth a short call?",
            "autonomy": Campaign.Autonomy.AUTO_SEND,
            "review_sample_share": 0,
        },
        format="json",
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/api/v1/campaigns/{campaign['id']}/enroll/", {}, format="json")
    message = Message.objects.for_workspace(workspace).get()
    assert message.status == Message.Status.APPROVED, message.checks
    assert message.approved_at is not None


# --- a held draft needs an explicit confirmation ----------------------------------------------


def test_a_held_draft_is_not_approved_without_confirmation(workspace, member):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    with pytest.raises(AppError) as refused:
        review.message_approve(message=message, user=member)
    assert "held by the checks" in refused.value.message
    assert fresh(message).status == Message.Status.HELD
    assert not MessageFeedback.objects.for_workspace(workspace).exists()


def test_a_held_draft_is_approved_once_confirmed(workspace, member):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    review.message_approve(message=message, user=member, confirm_held=True)
    assert fresh(message).status == Message.Status.APPROVED


def test_the_api_asks_for_confirmation_of_a_held_draft(api, workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    url = f"/api/v1/messages/{message.pk}/approve/"
    response = api.post(url, {}, format="json")
    assert response.status_code == 400
    assert "confirm_held" in error_of(response)["details"]
    response = api.post(url, {"confirm_held": True}, format="json")
    assert response.json()["status"] == "approved"


def test_the_approve_button_alone_does_not_approve_a_held_draft(web, workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    response = web.post(f"/review/{message.pk}/act/", {"action": "approve"}, follow=True)
    assert b"held by the checks" in response.content
    assert fresh(message).status == Message.Status.HELD
    web.post(f"/review/{message.pk}/act/", {"action": "approve_held"})
    assert fresh(message).status == Message.Status.APPROVED


# --- rejecting: the reason box belongs to the reject button -------------------------------


def test_the_reason_box_sits_in_a_form_whose_only_submit_is_reject(web, workspace):
    """Pressing Enter in a text box submits its form with the form's first submit button:
    with the reason in the approve form, Enter approved the draft and lost the reason."""
    from bs4 import BeautifulSoup

    message = MessageFactory(workspace=workspace)
    page = BeautifulSoup(web.get(f"/review/{message.pk}/").content, "lxml")
    form = page.find(id="reject-reason").find_parent("form")
    submits = form.select("button:not([type=button]), input[type=submit]")
    assert [(b.get("name"), b.get("value")) for b in submits] == [("action", "reject")]


def test_a_post_with_a_reason_never_approves(web, workspace):
    message = MessageFactory(workspace=workspace)
    response = web.post(
        f"/review/{message.pk}/act/", {"action": "approve", "reason": "Too generic"}, follow=True
    )
    assert fresh(message).status == Message.Status.PENDING_REVIEW
    assert b"reason to reject" in response.content


def test_rejecting_in_the_web_keeps_the_reason(web, workspace):
    message = MessageFactory(workspace=workspace)
    web.post(f"/review/{message.pk}/act/", {"action": "reject", "reason": "Wrong angle"})
    assert fresh(message).status == Message.Status.REJECTED
    assert MessageFeedback.objects.for_workspace(workspace).get().reason == "Wrong angle"


# --- saving an edit without approving -------------------------------------------------------


def test_an_edit_is_saved_as_feedback_and_the_draft_keeps_waiting(workspace, member):
    message = MessageFactory(workspace=workspace)
    before = message.body
    review.message_save_edit(message=message, user=member, subject="Leeds", body="Hi Dana, short.")
    message = fresh(message)
    assert (message.status, message.subject, message.body) == (
        Message.Status.PENDING_REVIEW,
        "Leeds",
        "Hi Dana, short.",
    )
    assert message.approved_at is None
    feedback = MessageFeedback.objects.for_workspace(workspace).get()
    assert (feedback.kind, feedback.body_before, feedback.body_after) == (
        "edited",
        before,
        "Hi Dana, short.",
    )
    assert Activity.objects.for_workspace(workspace).filter(type="message.edited").exists()


def test_a_held_draft_stays_held_after_an_edit(workspace, member):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD)
    review.message_save_edit(message=message, user=member, body="Hi Dana, rewritten.")
    assert fresh(message).status == Message.Status.HELD


def test_saving_an_unchanged_or_empty_draft_is_refused(workspace, member):
    message = MessageFactory(workspace=workspace)
    with pytest.raises(AppError, match="Nothing changed"):
        review.message_save_edit(message=message, user=member, body=message.body)
    with pytest.raises(AppError, match="needs a body"):
        review.message_save_edit(message=message, user=member, body="  ")
    assert not MessageFeedback.objects.for_workspace(workspace).exists()


def test_save_edit_in_the_web_does_not_approve(web, workspace):
    message = MessageFactory(workspace=workspace)
    response = web.post(
        f"/review/{message.pk}/act/",
        {"action": "save", "subject": message.subject, "body": "Hi Dana, better."},
    )
    assert response["Location"] == f"/review/{message.pk}/"
    message = fresh(message)
    assert (message.status, message.body) == (Message.Status.PENDING_REVIEW, "Hi Dana, better.")


# --- undo -----------------------------------------------------------------------------------


def test_undo_inside_the_window_takes_the_draft_back_to_review(workspace, member):
    approved_at = timezone.now()
    message = MessageFactory(workspace=workspace)
    review.message_approve(message=message, user=member, now=approved_at)
    review.message_unapprove(message=message, user=member, now=approved_at + GRACE / 2)
    message = fresh(message)
    assert message.status == Message.Status.PENDING_REVIEW
    assert message.approved_at is None
    activity = Activity.objects.for_workspace(workspace).get(type="message.unapproved")
    assert activity.object_id == str(message.pk)


def test_undo_after_the_window_is_refused(workspace, member):
    approved_at = timezone.now()
    message = MessageFactory(workspace=workspace)
    review.message_approve(message=message, user=member, now=approved_at)
    with pytest.raises(AppError, match="undo window") as refused:
        review.message_unapprove(message=message, user=member, now=approved_at + GRACE)
    assert refused.value.status_code == 409
    assert fresh(message).status == Message.Status.APPROVED


@pytest.mark.parametrize("status", [Message.Status.QUEUED, Message.Status.SENT])
def test_undo_of_a_message_on_its_way_is_refused(workspace, member, status):
    message = MessageFactory(workspace=workspace, status=status, approved_at=timezone.now())
    with pytest.raises(AppError, match="too late to undo") as refused:
        review.message_unapprove(message=message, user=member)
    assert refused.value.status_code == 409
    assert fresh(message).status == status


def test_undo_through_the_api(api, workspace):
    message = MessageFactory(workspace=workspace)
    api.post(f"/api/v1/messages/{message.pk}/approve/", {}, format="json")
    response = api.post(f"/api/v1/messages/{message.pk}/unapprove/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "pending_review"


def test_undo_through_the_api_after_the_window_is_a_conflict(api, workspace):
    message = MessageFactory(
        workspace=workspace,
        status=Message.Status.APPROVED,
        approved_at=timezone.now() - GRACE - timedelta(seconds=1),
    )
    response = api.post(f"/api/v1/messages/{message.pk}/unapprove/", {}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    assert "undo window" in error_of(response)["message"]


def test_undo_of_another_workspaces_message_is_not_found(api, neighbour):
    message = neighbour.rows[Message]
    response = api.post(f"/api/v1/messages/{message.pk}/unapprove/", {}, format="json")
    assert response.status_code == 404


def test_the_review_page_offers_undo_for_a_fresh_approval(web, workspace):
    approved = MessageFactory(workspace=workspace, subject="Just approved")
    MessageFactory(workspace=workspace)
    response = web.post(f"/review/{approved.pk}/act/", {"action": "approve"}, follow=True)
    assert b"Just approved" in response.content
    assert f"/review/{approved.pk}/undo/".encode() in response.content
    response = web.post(f"/review/{approved.pk}/undo/", follow=True)
    assert fresh(approved).status == Message.Status.PENDING_REVIEW
    assert b"back in the queue" in response.content


# --- n walks the whole queue ------------------------------------------------------------------


def test_next_walks_every_draft_in_order_and_then_wraps(web, workspace):
    start = timezone.now() - timedelta(hours=1)
    drafts = [MessageFactory(workspace=workspace) for _ in range(10)]
    for index, draft in enumerate(drafts):  # a distinct, known order
        Message.unscoped_objects.filter(pk=draft.pk).update(
            created_at=start + timedelta(minutes=index)
        )
    drafts = [fresh(d) for d in drafts]
    seen = []
    current = drafts[0]
    for _ in range(10):
        seen.append(current.pk)
        place = review.queue_place(workspace=workspace, message=current)
        current = place.next
    assert seen == [d.pk for d in drafts]
    assert current.pk == drafts[0].pk  # wrapped
    assert review.queue_place(workspace=workspace, message=drafts[9]).wrapped
    place = review.queue_place(workspace=workspace, message=drafts[3])
    assert (place.position, place.total, place.wrapped) == (4, 10, False)


# --- settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("two minutes", "APPROVAL_GRACE_SECONDS must be a whole number"),
        ("-1", "APPROVAL_GRACE_SECONDS must be at least 0"),
    ],
)
def test_a_bad_grace_period_stops_start_up(value, message):
    result = run_settings({"APPROVAL_GRACE_SECONDS": value})
    assert result.returncode != 0
    assert message in result.stderr
