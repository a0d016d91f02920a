"""A status change locks its row FOR NO KEY UPDATE, never FOR UPDATE: a concurrent commit
that inserts a row pointing at it (an enrollment into a campaign, a feedback on a message,
any row of the workspace) holds KEY SHARE on it while it checks the foreign key, and FOR
UPDATE would wait for that commit, or deadlock with it. Each test holds that KEY SHARE from
another connection and acts under a lock timeout: a wait fails the test instead of hanging.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.http import QueryDict
from django.utils import timezone

from leads.bulk import Selection, leads_resume
from leads.models import Lead
from outreach.campaigns import campaign_archive, campaign_pause
from outreach.dispatch import dispatch_due
from outreach.enrollment import campaign_enroll, enrollment_pause, enrollment_resume
from outreach.models import Campaign, Enrollment, Message, SequenceStep
from outreach.replies.handling import reply_category_set
from outreach.review import message_approve, message_reject
from outreach.sequence_advance import sequences_advance
from outreach.sequences import after_sent
from sdr.workspace_settings import SettingsInput, workspace_settings_update
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MembershipFactory,
    MessageFactory,
    ReplyFactory,
    SequenceStepFactory,
)
from tests.locks import key_share_held, lock_timeout

pytestmark = pytest.mark.django_db(transaction=True)


def test_pausing_and_archiving_a_campaign_while_leads_are_enrolled_into_it(workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    with key_share_held(campaign), lock_timeout():
        assert campaign_pause(campaign=campaign).status == Campaign.Status.PAUSED
    with key_share_held(campaign), lock_timeout():
        assert campaign_archive(campaign=campaign).status == Campaign.Status.ARCHIVED


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_reviewing_a_draft_while_a_row_about_it_commits(workspace, decision):
    message = MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    with key_share_held(message), lock_timeout():
        if decision == "approve":
            reviewed = message_approve(message=message, user=None)
        else:
            reviewed = message_reject(message=message, user=None, reason="Too long")
    assert reviewed.status == ("approved" if decision == "approve" else "rejected")


def test_resuming_leads_while_a_running_sequence_of_theirs_gets_a_new_message(workspace):
    paused = EnrollmentFactory(workspace=workspace, status=Enrollment.Status.PAUSED)
    running = EnrollmentFactory(workspace=workspace)  # another lead, running: locked to check
    leads = Lead.objects.for_workspace(workspace).filter(pk__in=[paused.lead_id, running.lead_id])
    owner = MembershipFactory(workspace=workspace)
    selection = Selection(workspace=workspace, leads=leads, params=QueryDict(), user=owner.user)
    with key_share_held(running), lock_timeout():
        leads_resume(selection)
    paused.refresh_from_db()
    assert paused.status == Enrollment.Status.ACTIVE


def test_changing_the_workspace_s_settings_while_its_rows_are_written(workspace):
    owner = MembershipFactory(workspace=workspace)
    given = SettingsInput.from_post({"name": "Renamed", "timezone": "Europe/Berlin"})
    with key_share_held(workspace), lock_timeout():
        changed = workspace_settings_update(workspace=workspace, by=owner, given=given)
    assert "name" in changed


def test_enrolling_leads_while_a_row_pointing_at_the_campaign_commits(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    lead = LeadFactory(workspace=workspace)
    with key_share_held(campaign), lock_timeout():
        enrolled = campaign_enroll(campaign=campaign, lead_ids=[lead.pk])
    assert [e.lead_id for e in enrolled.enrolled] == [lead.pk]


@pytest.mark.parametrize("move", ["pause", "resume"])
def test_pausing_or_resuming_one_enrollment_while_a_message_of_its_commits(workspace, move):
    status = Enrollment.Status.ACTIVE if move == "pause" else Enrollment.Status.PAUSED
    enrollment = EnrollmentFactory(workspace=workspace, status=status)
    with key_share_held(enrollment), lock_timeout():
        if move == "pause":
            moved = enrollment_pause(enrollment=enrollment)
        else:
            moved = enrollment_resume(enrollment=enrollment)
    assert moved.status != status


def _sent_first_step(workspace) -> Message:
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    first = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    SequenceStepFactory(
        workspace=workspace, campaign=campaign, order=2, kind=SequenceStep.Kind.FOLLOW_UP
    )
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign)
    return MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=first,
        status=Message.Status.SENT,
        sent_at=timezone.now(),
        to_email=enrollment.lead.email,
        message_id_header=f"<{enrollment.pk}.1@pickwell.example>",
    )


@pytest.mark.parametrize("held", ["workspace", "enrollment"])
def test_the_next_step_follows_a_sent_one_while_other_rows_commit(workspace, held):
    """`after_sent` once locked the enrollment's workspace, campaign and lead FOR UPDATE
    too (select_related without `of`): every insert into the workspace waited for it."""
    message = _sent_first_step(workspace)
    with key_share_held(workspace if held == "workspace" else message.enrollment), lock_timeout():
        after_sent(message=message)
    assert Message.objects.for_workspace(workspace).filter(step__order=2).count() == 1


def test_a_batch_of_sends_advances_while_a_message_of_its_enrollment_commits(workspace):
    message = _sent_first_step(workspace)
    with key_share_held(message.enrollment), lock_timeout():
        sequences_advance(messages=[message])
    assert Message.objects.for_workspace(workspace).filter(step__order=2).count() == 1


def test_dispatching_while_a_row_pointing_at_the_mailbox_commits(workspace):
    """A send's commit points its message at the mailbox (KEY SHARE on it)."""
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    first = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    mailbox = MailboxFactory(workspace=workspace, min_interval_seconds=0, daily_cap=50)
    campaign.mailboxes.add(mailbox)
    message = MessageFactory(
        workspace=workspace,
        enrollment=EnrollmentFactory(workspace=workspace, campaign=campaign),
        step=first,
        status=Message.Status.APPROVED,
        approved_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    with key_share_held(mailbox), lock_timeout():
        dispatch_due(now=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # a Monday morning
    message.refresh_from_db()
    assert message.status == Message.Status.QUEUED


def test_correcting_a_reply_s_category_while_another_label_of_it_commits(workspace):
    reply = ReplyFactory(workspace=workspace)
    with key_share_held(reply), lock_timeout():
        corrected = reply_category_set(reply=reply, category="not_interested")
    assert corrected.category == "not_interested"
