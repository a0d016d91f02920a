"""Drafting is claimed with a lease: a message stuck in drafting can be drafted again once
its worker's lease ran out, never twice at once, and a worker that lost it writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach import messages
from outreach.messages import message_draft_by_id, message_redraft
from outreach.models import Message
from sdr.errors import AppError
from sdr.models import Activity
from sdr.states import claim, transition
from tests.factories import MessageFactory

DRAFTING = Message.Status.DRAFTING
LEASE = timedelta(minutes=5)


@pytest.fixture
def stuck(workspace):
    """A message whose drafting worker died: DRAFTING, its lease expired."""
    message = MessageFactory(workspace=workspace, status=DRAFTING, body="", subject="")
    assert claim(Message, message.pk, source=DRAFTING, target=DRAFTING, lease=LEASE)
    Message.unscoped_objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    return message


def fresh(message) -> Message:
    return Message.unscoped_objects.get(pk=message.pk)


def test_a_message_stuck_drafting_can_be_redrafted_once_its_lease_ran_out(
    api, stuck, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/messages/{stuck.pk}/redraft/", {}, format="json")

    assert response.status_code == 202, response.json()
    message = fresh(stuck)
    assert message.status == Message.Status.PENDING_REVIEW and message.body, message.failure_reason
    assert (message.claimed_until, message.claim_token) == (None, None)
    [requested] = Activity.unscoped_objects.filter(
        type="message.redraft_requested", object_id=str(stuck.pk)
    )
    assert requested.payload["previous"] == DRAFTING
    assert Activity.unscoped_objects.filter(type="message.drafted", object_id=str(stuck.pk))


def test_a_message_being_drafted_now_is_not_redrafted(workspace):
    message = MessageFactory(workspace=workspace, status=DRAFTING)
    assert claim(Message, message.pk, source=DRAFTING, target=DRAFTING, lease=LEASE)
    with pytest.raises(AppError, match="being drafted right now") as error:
        message_redraft(message=message)
    assert error.value.status_code == 409
    assert (
        not Activity.objects.for_workspace(workspace)
        .filter(type="message.redraft_requested")
        .exists()
    )


def test_an_approved_message_is_not_redrafted(workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.APPROVED)
    with pytest.raises(AppError, match="approved draft cannot be redrafted"):
        message_redraft(message=message)


def test_a_redraft_starts_a_fresh_count_of_attempts(workspace, django_capture_on_commit_callbacks):
    message = MessageFactory(workspace=workspace, status=Message.Status.FAILED, attempts=3)
    with django_capture_on_commit_callbacks(execute=False) as hints:
        message_redraft(message=message)
    assert (fresh(message).status, fresh(message).attempts) == (DRAFTING, 0)
    assert len(hints) == 1


def test_a_redelivered_draft_task_does_not_draft_a_message_twice_at_once(workspace):
    message = MessageFactory(workspace=workspace, status=DRAFTING)
    assert claim(Message, message.pk, source=DRAFTING, target=DRAFTING, lease=LEASE)
    assert message_draft_by_id(message_id=str(message.pk)) is None
    assert fresh(message).status == DRAFTING


def test_a_worker_that_lost_its_message_writes_nothing(workspace, monkeypatch):
    message = MessageFactory(workspace=workspace, status=DRAFTING, body="", subject="")
    real = messages.draft_produce

    def slow_model(**kwargs):
        outcome = real(**kwargs)
        # Meanwhile the lease ran out and the sweeper gave the message to another worker.
        Message.unscoped_objects.filter(pk=message.pk).update(
            claimed_until=timezone.now() - timedelta(seconds=1)
        )
        assert claim(Message, message.pk, source=DRAFTING, target=DRAFTING, lease=LEASE)
        return outcome

    monkeypatch.setattr(messages, "draft_produce", slow_model)
    message_draft_by_id(message_id=str(message.pk))

    message = fresh(message)
    assert (message.status, message.body) == (DRAFTING, "")
    assert not message.cited_facts.exists()
    assert not Activity.objects.for_workspace(workspace).filter(type="message.drafted").exists()


def test_a_bug_in_drafting_fails_the_message_with_the_reason(workspace, monkeypatch):
    message = MessageFactory(workspace=workspace, status=DRAFTING)

    def broken(**kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(messages, "draft_produce", broken)
    with pytest.raises(KeyError):
        message_draft_by_id(message_id=str(message.pk))
    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert message.failure_reason == "Internal error (KeyError)"
    assert message.claim_token is None
    assert Activity.objects.for_workspace(workspace).filter(type="message.draft_failed").exists()


def test_drafting_ends_the_lease(workspace):
    message = MessageFactory(workspace=workspace, status=DRAFTING)
    message_draft_by_id(message_id=str(message.pk))
    message = fresh(message)
    assert message.status != DRAFTING
    assert (message.claimed_until, message.claim_token, message.attempts) == (None, None, 1)
    assert not transition(
        Message, message.pk, source=DRAFTING, target=Message.Status.FAILED
    )  # nothing left to take back
