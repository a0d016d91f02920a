"""Sequences: after a sent step the next one is created and drafted, due business days
later in the recipient's time zone; the sequence finishes after the last step; an answer
from one person pauses their colleagues; silence becomes a "no response" outcome."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from outreach.models import Campaign, Enrollment, Message, Outcome, SequenceStep
from outreach.outcomes import outcome_record
from outreach.sequences import (
    SEQUENCE_FINISHED,
    add_business_days,
    after_sent,
    enrollments_record_no_response,
)
from sdr.models import Activity
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    OutcomeFactory,
    SequenceStepFactory,
)

FRIDAY_4PM_BERLIN = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    SequenceStepFactory(
        workspace=workspace,
        campaign=campaign,
        order=2,
        kind=SequenceStep.Kind.FOLLOW_UP,
        delay_business_days=2,
    )
    return campaign


def sent(campaign, *, order=1, lead=None, sent_at=FRIDAY_4PM_BERLIN, lead_timezone="Europe/Berlin"):
    workspace = campaign.workspace
    lead = lead or LeadFactory(workspace=workspace, timezone=lead_timezone)
    mailbox = MailboxFactory(workspace=workspace)
    enrollment = EnrollmentFactory(
        workspace=workspace, campaign=campaign, lead=lead, mailbox=mailbox
    )
    return MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=campaign.steps.get(order=order),
        status=Message.Status.SENT,
        mailbox=mailbox,
        sent_at=sent_at,
        to_email=lead.email,
        message_id_header=f"<{enrollment.pk}.{order}@pickwell.example>",
    )


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def test_business_days_skip_weekends_and_holidays():
    friday = date(2026, 12, 4)
    assert add_business_days(friday, 1, holidays=frozenset()) == date(2026, 12, 7)
    assert add_business_days(friday, 2, holidays=frozenset({date(2026, 12, 7)})) == date(
        2026, 12, 9
    )
    assert add_business_days(date(2026, 12, 5), 0, holidays=frozenset()) == date(2026, 12, 7)


def test_the_next_step_is_created_and_due_business_days_later_in_the_leads_zone(
    workspace, campaign
):
    workspace.holidays = ["2026-12-07"]  # Monday
    workspace.save()
    message = sent(campaign)  # Friday 16:00 in Berlin

    after_sent(message=message)

    follow_up = Message.unscoped_objects.get(enrollment=message.enrollment, step__order=2)
    assert follow_up.status == Message.Status.DRAFTING
    # Two business days after Friday, Monday a holiday: Wednesday, 16:00 Berlin.
    assert follow_up.due_at == datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
    # Threaded on the first message, from the same mailbox.
    assert follow_up.in_reply_to == message.message_id_header
    assert follow_up.references == message.message_id_header
    assert follow_up.mailbox_id == message.mailbox_id
    assert fresh(message.enrollment).current_step.order == 2
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="message.created", object_id=str(follow_up.pk))
        .exists()
    )


def test_the_due_time_keeps_the_wall_clock_across_a_dst_change(workspace, campaign):
    campaign.steps.filter(order=2).update(delay_business_days=1)
    # Friday 23 October 2026, 10:00 in Berlin (UTC+2); the clocks go back on Sunday.
    message = sent(campaign, sent_at=datetime(2026, 10, 23, 8, 0, tzinfo=UTC))
    after_sent(message=message)
    follow_up = Message.unscoped_objects.get(enrollment=message.enrollment, step__order=2)
    # Monday 10:00 in Berlin is 09:00 UTC (UTC+1).
    assert follow_up.due_at == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_sent_twice_still_makes_one_next_message(campaign):
    message = sent(campaign)
    after_sent(message=message)
    after_sent(message=message)
    assert (
        Message.unscoped_objects.filter(enrollment=message.enrollment, step__order=2).count() == 1
    )


def test_after_the_last_step_the_sequence_finishes(workspace, campaign):
    message = sent(campaign, order=2)
    after_sent(message=message)
    enrollment = fresh(message.enrollment)
    assert (enrollment.status, enrollment.stop_reason) == (
        Enrollment.Status.FINISHED,
        SEQUENCE_FINISHED,
    )
    assert Message.unscoped_objects.filter(enrollment=enrollment).count() == 1
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="enrollment.finished", object_id=str(enrollment.pk))
        .exists()
    )


def test_a_sequence_stopped_meanwhile_gets_no_next_step(campaign):
    message = sent(campaign)
    Enrollment.unscoped_objects.filter(pk=message.enrollment_id).update(
        status=Enrollment.Status.REPLIED
    )
    after_sent(message=message)
    assert not Message.unscoped_objects.filter(
        enrollment=message.enrollment, step__order=2
    ).exists()


# --- colleagues ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [Outcome.Kind.POSITIVE_REPLY, Outcome.Kind.MEETING_BOOKED, Outcome.Kind.NOT_INTERESTED],
)
def test_an_answer_pauses_the_colleagues_at_the_same_company(workspace, kind):
    company = CompanyFactory(workspace=workspace)
    one = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    other = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    no_pause = CampaignFactory(
        workspace=workspace, status=Campaign.Status.ACTIVE, pause_colleagues_on_reply=False
    )
    answering = EnrollmentFactory(
        workspace=workspace, campaign=one, lead=LeadFactory(workspace=workspace, company=company)
    )
    colleague = EnrollmentFactory(
        workspace=workspace, campaign=other, lead=LeadFactory(workspace=workspace, company=company)
    )
    left_alone = EnrollmentFactory(
        workspace=workspace,
        campaign=no_pause,
        lead=LeadFactory(workspace=workspace, company=company),
    )
    elsewhere = EnrollmentFactory(workspace=workspace, campaign=other)

    outcome_record(lead=answering.lead, kind=kind, evidence="Replied", source="reply")

    assert fresh(answering).status == Enrollment.Status.REPLIED
    colleague = fresh(colleague)
    assert colleague.status == Enrollment.Status.PAUSED
    assert colleague.stop_reason.startswith("paused: a colleague at the same company answered")
    assert fresh(left_alone).status == Enrollment.Status.ACTIVE
    assert fresh(elsewhere).status == Enrollment.Status.ACTIVE
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="enrollment.paused", object_id=str(colleague.pk))
        .exists()
    )


def test_a_bounce_does_not_pause_colleagues(workspace):
    company = CompanyFactory(workspace=workspace)
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    bounced = EnrollmentFactory(
        workspace=workspace,
        campaign=campaign,
        lead=LeadFactory(workspace=workspace, company=company),
    )
    colleague = EnrollmentFactory(
        workspace=workspace,
        campaign=campaign,
        lead=LeadFactory(workspace=workspace, company=company),
    )
    outcome_record(lead=bounced.lead, kind=Outcome.Kind.BOUNCED, evidence="550", source="system")
    assert fresh(colleague).status == Enrollment.Status.ACTIVE


# --- no response --------------------------------------------------------------------------


def finished(campaign, *, sent_at):
    message = sent(campaign, order=2, sent_at=sent_at)
    after_sent(message=message)
    return fresh(message.enrollment)


def test_a_finished_sequence_without_an_answer_becomes_no_response(settings, workspace, campaign):
    settings.NO_RESPONSE_AFTER_DAYS = 7
    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    silent = finished(campaign, sent_at=now - timedelta(days=8))
    recent = finished(campaign, sent_at=now - timedelta(days=6))
    answered = finished(campaign, sent_at=now - timedelta(days=8))
    OutcomeFactory(workspace=workspace, lead=answered.lead, kind=Outcome.Kind.POSITIVE_REPLY)

    assert enrollments_record_no_response(now=now) == 1

    outcome = Outcome.objects.for_workspace(workspace).get(kind=Outcome.Kind.NO_RESPONSE)
    assert outcome.lead_id == silent.lead_id
    assert outcome.source == Outcome.Source.SYSTEM
    assert (
        not Outcome.objects.for_workspace(workspace)
        .filter(lead=recent.lead, kind=Outcome.Kind.NO_RESPONSE)
        .exists()
    )
    # Once per lead: running again records nothing new; a day on, the recent one's turn.
    assert enrollments_record_no_response(now=now) == 0
    assert enrollments_record_no_response(now=now + timedelta(days=1)) == 1


def test_steps_a_killed_send_worker_left_without_their_next_are_advanced_by_the_repair(
    workspace, campaign
):
    from django.utils import timezone

    from outreach.sequence_advance import sequences_repair

    an_hour_ago = timezone.now() - timedelta(hours=1)
    stalled = sent(campaign, sent_at=an_hour_ago)
    last_step = sent(campaign, order=2, sent_at=an_hour_ago)
    in_flight = sent(campaign, sent_at=timezone.now() - timedelta(minutes=1))
    advanced = sent(campaign, sent_at=an_hour_ago)
    after_sent(message=advanced)
    stopped = sent(campaign, sent_at=an_hour_ago)
    Enrollment.unscoped_objects.filter(pk=stopped.enrollment_id).update(
        status=Enrollment.Status.REPLIED
    )

    assert sequences_repair() == 2

    follow_up = Message.unscoped_objects.get(enrollment=stalled.enrollment, step__order=2)
    assert follow_up.status == Message.Status.DRAFTING
    assert follow_up.in_reply_to == stalled.message_id_header
    assert fresh(last_step.enrollment).status == Enrollment.Status.FINISHED
    for untouched in (in_flight, stopped):
        assert not Message.unscoped_objects.filter(
            enrollment=untouched.enrollment, step__order=2
        ).exists()
    assert Message.unscoped_objects.filter(enrollment=advanced.enrollment).count() == 2
    assert sequences_repair() == 0
