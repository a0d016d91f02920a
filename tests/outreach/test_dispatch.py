"""The dispatcher: approved messages leave inside the recipient's local window, under the
mailbox's cap and spacing and the recipient domain's cap, from the thread's own mailbox;
the others wait with the reason in words. The clock is passed in, never read."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from leads.models import Suppression
from outreach.dispatch import SendWindow, dispatch_due, mailbox_cap_today
from outreach.models import Campaign, Enrollment, Mailbox, Message
from sdr.models import Activity
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
    SuppressionFactory,
)

# Monday 7 December 2026, 10:00 UTC: inside the default window in UTC.
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    return campaign


@pytest.fixture
def mailbox(workspace, campaign):
    mailbox = MailboxFactory(workspace=workspace, min_interval_seconds=0, daily_cap=50)
    campaign.mailboxes.add(mailbox)
    return mailbox


def approved(campaign, *, email=None, lead_timezone="", **fields):
    """An approved message, approved long before any clock the tests use."""
    workspace = campaign.workspace
    lead_fields = {"workspace": workspace, "timezone": lead_timezone}
    if email:
        lead_fields["email"] = email
    enrollment = EnrollmentFactory(
        workspace=workspace, campaign=campaign, lead=LeadFactory(**lead_fields)
    )
    fields.setdefault("approved_at", datetime(2026, 1, 1, tzinfo=UTC))
    fields.setdefault("status", Message.Status.APPROVED)
    return MessageFactory(
        workspace=workspace, enrollment=enrollment, step=campaign.steps.get(order=1), **fields
    )


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def status(message) -> str:
    return fresh(message).status


def hold(message) -> str:
    return fresh(message).hold_reason


# --- the window ---------------------------------------------------------------------------


def test_a_berlin_lead_waits_until_0800_local_on_the_day_the_clocks_go_forward(campaign, mailbox):
    # Sunday 29 March 2026: Berlin moves from UTC+1 to UTC+2 at 02:00; 08:00 local is
    # 06:00 UTC that day (a fixed offset of +1 would say 07:00 local and wait).
    campaign.send_days = [0, 1, 2, 3, 4, 5, 6]
    campaign.save()
    message = approved(campaign, lead_timezone="Europe/Berlin")

    report = dispatch_due(now=datetime(2026, 3, 29, 5, 59, tzinfo=UTC))
    assert status(message) == Message.Status.APPROVED
    assert hold(message) == "outside the sending window until 08:00 Europe/Berlin"
    assert report.held == {"outside the sending window until 08:00 Europe/Berlin": 1}

    report = dispatch_due(now=datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    assert status(message) == Message.Status.QUEUED
    assert hold(message) == ""
    assert [q.message_id for q in report.queued] == [message.pk]


def test_a_berlin_lead_on_the_day_the_clocks_go_back(campaign, mailbox):
    # Sunday 25 October 2026: back to UTC+1 at 03:00; 08:00 local is 07:00 UTC.
    campaign.send_days = [0, 1, 2, 3, 4, 5, 6]
    campaign.save()
    message = approved(campaign, lead_timezone="Europe/Berlin")

    dispatch_due(now=datetime(2026, 10, 25, 6, 59, tzinfo=UTC))
    assert hold(message) == "outside the sending window until 08:00 Europe/Berlin"
    dispatch_due(now=datetime(2026, 10, 25, 7, 0, tzinfo=UTC))
    assert status(message) == Message.Status.QUEUED


def test_a_los_angeles_lead_is_written_to_in_los_angeles_hours(campaign, mailbox):
    message = approved(campaign, lead_timezone="America/Los_Angeles")
    # Monday 9 March 2026, the day after the US change: 08:00 PDT is 15:00 UTC.
    dispatch_due(now=datetime(2026, 3, 9, 14, 59, tzinfo=UTC))
    assert hold(message) == "outside the sending window until 08:00 America/Los_Angeles"
    dispatch_due(now=datetime(2026, 3, 9, 15, 0, tzinfo=UTC))
    assert status(message) == Message.Status.QUEUED


def test_after_the_window_closes_the_message_waits_for_the_next_sending_day(campaign, mailbox):
    message = approved(campaign, lead_timezone="America/New_York")
    # Friday 4 December 2026, 18:00 in New York (23:00 UTC): next is Monday.
    dispatch_due(now=datetime(2026, 12, 4, 23, 0, tzinfo=UTC))
    assert hold(message) == "outside the sending window until Mon 7 Dec 08:00 America/New_York"


def test_nobody_is_written_to_on_a_weekend(campaign, mailbox):
    message = approved(campaign)
    dispatch_due(now=datetime(2026, 12, 5, 10, 0, tzinfo=UTC))  # Saturday
    assert status(message) == Message.Status.APPROVED
    assert hold(message) == "outside the sending window until Mon 7 Dec 08:00 UTC"


def test_nobody_is_written_to_on_a_workspace_holiday(workspace, campaign, mailbox):
    workspace.holidays = ["2026-12-24", "2026-12-25"]
    workspace.save()
    message = approved(campaign)
    dispatch_due(now=datetime(2026, 12, 24, 10, 0, tzinfo=UTC))  # Thursday
    assert hold(message) == "outside the sending window until Mon 28 Dec 08:00 UTC"


def test_the_campaigns_timezone_then_the_workspaces_stand_in_for_the_leads(
    workspace, campaign, mailbox
):
    workspace.timezone = "Asia/Tokyo"
    workspace.save()
    tokyo = approved(campaign)
    campaign_zone = CampaignFactory(
        workspace=workspace, status=Campaign.Status.ACTIVE, timezone="Europe/London"
    )
    SequenceStepFactory(workspace=workspace, campaign=campaign_zone, order=1)
    campaign_zone.mailboxes.add(mailbox)
    london = approved(campaign_zone)

    dispatch_due(now=datetime(2026, 12, 7, 7, 30, tzinfo=UTC))  # 16:30 Tokyo, 07:30 London
    assert status(tokyo) == Message.Status.QUEUED
    assert hold(london) == "outside the sending window until 08:00 Europe/London"


def test_the_campaigns_own_days_and_hours_are_used(campaign, mailbox):
    campaign.send_days = [1]  # Tuesdays only
    campaign.send_window_start = datetime(2000, 1, 1, 9, 30).time()
    campaign.save()
    message = approved(campaign)
    dispatch_due(now=MONDAY)
    assert hold(message) == "outside the sending window until Tue 8 Dec 09:30 UTC"


def test_send_window_next_open_is_in_wall_time_across_dst():
    window = SendWindow(
        zone=ZoneInfo("Europe/Berlin"),
        days=frozenset(range(7)),
        start=datetime(2000, 1, 1, 8, 0).time(),
        end=datetime(2000, 1, 1, 18, 0).time(),
        holidays=frozenset({date(2026, 3, 30)}),
    )
    # Saturday evening before the change: opens Sunday 08:00 CEST (06:00 UTC).
    assert window.next_open(datetime(2026, 3, 28, 20, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC
    )
    # Sunday evening: Monday is a holiday, so Tuesday 08:00 CEST.
    assert window.next_open(datetime(2026, 3, 29, 20, 0, tzinfo=UTC)) == datetime(
        2026, 3, 31, 6, 0, tzinfo=UTC
    )


# --- what goes, what waits ----------------------------------------------------------------


def test_a_queued_message_carries_its_mailbox_address_and_time(workspace, campaign, mailbox):
    message = approved(campaign, email="dana@northwind.example")

    report = dispatch_due(now=MONDAY)

    message = fresh(message)
    assert message.status == Message.Status.QUEUED
    assert (message.mailbox_id, message.to_email) == (mailbox.pk, "dana@northwind.example")
    assert message.queued_at == MONDAY and message.due_at == MONDAY
    assert fresh(message.enrollment).mailbox_id == mailbox.pk  # the thread's mailbox now
    assert report.queued[0].countdown == 0
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="message.queued", object_id=str(message.pk))
        .exists()
    )


def test_the_undo_window_holds_a_message_just_approved(settings, campaign, mailbox):
    settings.APPROVAL_GRACE_SECONDS = 120
    message = approved(campaign, approved_at=MONDAY - timedelta(seconds=119))
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.APPROVED
    dispatch_due(now=MONDAY + timedelta(seconds=1))
    assert status(message) == Message.Status.QUEUED


def test_a_message_not_due_yet_waits(campaign, mailbox):
    message = approved(campaign, due_at=MONDAY + timedelta(hours=1))
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.APPROVED
    dispatch_due(now=MONDAY + timedelta(hours=1))
    assert status(message) == Message.Status.QUEUED


@pytest.mark.parametrize(
    ("campaign_status", "reason"),
    [
        (Campaign.Status.PAUSED, "campaign paused"),
        (Campaign.Status.ARCHIVED, "campaign archived"),
        (Campaign.Status.DRAFT, "campaign not active yet: activate it to send"),
    ],
)
def test_only_active_campaigns_send(campaign, mailbox, campaign_status, reason):
    message = approved(campaign)
    Campaign.unscoped_objects.filter(pk=campaign.pk).update(status=campaign_status)

    report = dispatch_due(now=MONDAY)

    assert status(message) == Message.Status.APPROVED
    assert hold(message) == reason
    assert report.queued == [] and report.held == {reason: 1}


def test_a_paused_enrollment_does_not_send(campaign, mailbox):
    message = approved(campaign)
    Enrollment.unscoped_objects.filter(pk=message.enrollment_id).update(
        status=Enrollment.Status.PAUSED
    )
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.APPROVED
    assert hold(message) == "sequence paused for this lead"


def test_a_campaign_without_a_mailbox_says_to_add_one(campaign):
    message = approved(campaign)
    dispatch_due(now=MONDAY)
    assert hold(message) == "no mailbox: add one to the campaign"


def test_a_suppressed_address_fails_and_stops_the_sequence(workspace, campaign, mailbox):
    message = approved(campaign, email="gone@northwind.example")
    SuppressionFactory(
        workspace=workspace, value="gone@northwind.example", source=Suppression.Source.UNSUBSCRIBE
    )

    report = dispatch_due(now=MONDAY)

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert message.failure_reason == "suppressed: unsubscribed"
    assert message.hold_reason == "suppressed: unsubscribed"
    enrollment = fresh(message.enrollment)
    assert (enrollment.status, enrollment.stop_reason) == (
        Enrollment.Status.STOPPED,
        "suppressed: unsubscribed",
    )
    assert report.suppressed == 1 and report.queued == []


def test_a_suppressed_domain_stops_every_address_at_it(workspace, campaign, mailbox):
    message = approved(campaign, email="ceo@blocked.example")
    SuppressionFactory(
        workspace=workspace,
        kind=Suppression.Kind.DOMAIN,
        value="blocked.example",
        source=Suppression.Source.UI,
    )
    dispatch_due(now=MONDAY)
    assert fresh(message).failure_reason == "suppressed: domain added by a person"


# --- caps, spacing, rotation --------------------------------------------------------------


def test_the_mailbox_daily_cap_counts_its_local_day(workspace, campaign, mailbox):
    mailbox.daily_cap = 3
    mailbox.save()
    # One sent earlier today and one yesterday: only today's counts.
    for queued_at in (MONDAY - timedelta(hours=2), MONDAY - timedelta(days=1)):
        approved(campaign, status=Message.Status.SENT, mailbox=mailbox, queued_at=queued_at)
    messages = [
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, minutes=i)) for i in range(3)
    ]

    report = dispatch_due(now=MONDAY)

    assert len(report.queued) == 2
    assert report.held == {"mailbox daily cap reached": 1}
    # The oldest approval goes first.
    assert [status(m) for m in messages] == ["approved", "queued", "queued"]
    assert hold(messages[0]) == "mailbox daily cap reached"


def test_warm_up_ramps_the_cap_day_by_day(workspace, campaign, mailbox):
    mailbox.warmup_enabled, mailbox.warmup_start, mailbox.warmup_increment = True, 2, 3
    mailbox.daily_cap = 10
    mailbox.warmup_started_on = date(2026, 12, 7)
    mailbox.save()
    assert mailbox_cap_today(mailbox=mailbox, now=MONDAY) == 2
    assert mailbox_cap_today(mailbox=mailbox, now=MONDAY + timedelta(days=2)) == 8
    assert mailbox_cap_today(mailbox=mailbox, now=MONDAY + timedelta(days=9)) == 10

    for i in range(4):
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, minutes=i))
    report = dispatch_due(now=MONDAY)
    assert len(report.queued) == 2
    assert report.held == {"mailbox daily cap reached": 2}


def test_spacing_spreads_a_batch_with_countdowns_and_jitter(campaign, mailbox):
    mailbox.min_interval_seconds = 60
    mailbox.last_sent_at = MONDAY - timedelta(seconds=20)
    mailbox.save()
    for i in range(4):
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, minutes=i))

    report = dispatch_due(now=MONDAY, rng=random.Random(7))

    countdowns = [q.countdown for q in report.queued]
    assert len(countdowns) == 4
    assert countdowns[0] >= 40  # 60 s after the last send, 20 s ago
    gaps = [b - a for a, b in itertools.pairwise(countdowns)]
    assert all(60 <= gap <= 60 * 1.25 for gap in gaps), countdowns
    planned = sorted(
        Message.unscoped_objects.filter(status=Message.Status.QUEUED).values_list(
            "due_at", flat=True
        )
    )
    assert planned[0] >= MONDAY + timedelta(seconds=40)


def test_spacing_beyond_the_horizon_waits_for_a_later_pass(settings, campaign, mailbox):
    settings.DISPATCH_HORIZON_SECONDS = 300
    mailbox.min_interval_seconds = 200
    mailbox.save()
    messages = [
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, minutes=i)) for i in range(3)
    ]

    report = dispatch_due(now=MONDAY, rng=random.Random(1))

    assert len(report.queued) == 2
    assert hold(messages[0]) == (
        f"waiting for a free slot on {mailbox.from_email} (one send every 200 s)"
    )
    # The next pass counts the queued ones as the mailbox's latest sends.
    report = dispatch_due(now=MONDAY + timedelta(seconds=60), rng=random.Random(1))
    assert report.queued == []


def test_the_recipient_domain_cap_holds_across_the_workspace(workspace, campaign, mailbox):
    campaign.recipient_domain_daily_cap = 2
    campaign.save()
    approved(
        campaign,
        email="first@bigco.example",
        status=Message.Status.SENT,
        mailbox=mailbox,
        queued_at=MONDAY - timedelta(hours=3),
        to_email="first@bigco.example",
    )
    a = approved(campaign, email="a@bigco.example", approved_at=datetime(2025, 12, 1, tzinfo=UTC))
    b = approved(campaign, email="b@bigco.example")
    other = approved(campaign, email="c@smallco.example")

    dispatch_due(now=MONDAY)

    assert status(a) == Message.Status.QUEUED
    assert status(b) == Message.Status.APPROVED
    assert hold(b) == "recipient domain daily cap reached (bigco.example)"
    assert status(other) == Message.Status.QUEUED


def test_rotation_takes_the_least_recently_used_active_mailbox(workspace, campaign, mailbox):
    mailbox.last_sent_at = MONDAY - timedelta(minutes=5)
    mailbox.save()
    idle = MailboxFactory(workspace=workspace, min_interval_seconds=0)
    paused = MailboxFactory(
        workspace=workspace, min_interval_seconds=0, status=Mailbox.Status.PAUSED
    )
    campaign.mailboxes.add(idle, paused)
    messages = [
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, minutes=i)) for i in range(4)
    ]

    dispatch_due(now=MONDAY)

    used = [fresh(m).mailbox_id for m in reversed(messages)]  # in approval order
    assert used[0] == idle.pk
    assert sorted(used, key=str) == sorted([idle.pk, idle.pk, mailbox.pk, mailbox.pk], key=str)
    assert paused.pk not in used


def test_a_thread_stays_on_its_mailbox(workspace, campaign, mailbox):
    other = MailboxFactory(workspace=workspace, min_interval_seconds=0)
    campaign.mailboxes.add(other)
    mailbox.last_sent_at = MONDAY - timedelta(minutes=1)  # busier than `other`
    mailbox.daily_cap = 1
    mailbox.save()
    follow_up = approved(campaign)
    Enrollment.unscoped_objects.filter(pk=follow_up.enrollment_id).update(mailbox=mailbox)
    stuck = approved(campaign)
    Enrollment.unscoped_objects.filter(pk=stuck.enrollment_id).update(mailbox=mailbox)

    dispatch_due(now=MONDAY)

    queued = [m for m in (follow_up, stuck) if status(m) == Message.Status.QUEUED]
    waiting = [m for m in (follow_up, stuck) if status(m) == Message.Status.APPROVED]
    assert len(queued) == 1 and fresh(queued[0]).mailbox_id == mailbox.pk
    # At its mailbox's cap the thread waits rather than move to another mailbox.
    assert hold(waiting[0]) == "mailbox daily cap reached"


def test_a_thread_whose_mailbox_is_paused_waits_and_says_so(workspace, campaign, mailbox):
    message = approved(campaign)
    Enrollment.unscoped_objects.filter(pk=message.enrollment_id).update(mailbox=mailbox)
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(status=Mailbox.Status.PAUSED)
    dispatch_due(now=MONDAY)
    assert hold(message) == f"the thread's mailbox {mailbox.from_email} is paused"


def test_the_command_runs_one_pass_at_the_given_time(campaign, mailbox, capsys):
    approved(campaign, lead_timezone="Europe/Berlin")
    call_command("dispatch_due", "--now", "2026-12-07T06:30:00+00:00")
    out = capsys.readouterr().out
    assert "queued 0" in out
    assert "1 outside the sending window until 08:00 Europe/Berlin" in out


def test_the_command_refuses_a_bad_time():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("dispatch_due", "--now", "monday morning")


# --- several dispatchers at once ----------------------------------------------------------


def _send_task_exists() -> bool:
    import outreach.tasks

    return hasattr(outreach.tasks, "send_message_task")


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_queue_each_message_once(workspace, smtp_server):
    if not _send_task_exists():
        pytest.skip("outreach.tasks.send_message_task is not there yet (the sending work)")
    campaign = CampaignFactory(
        workspace=workspace, status=Campaign.Status.ACTIVE, recipient_domain_daily_cap=500
    )
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    for _ in range(3):
        mailbox = MailboxFactory(
            workspace=workspace, min_interval_seconds=0, daily_cap=500, smtp_port=smtp_server.port
        )
        campaign.mailboxes.add(mailbox)
    messages = [
        approved(campaign, approved_at=MONDAY - timedelta(hours=1, seconds=i)) for i in range(60)
    ]
    start = threading.Barrier(2)
    reports = []

    def run():
        try:
            start.wait()
            # Small batches: the two passes interleave, each skipping what the other holds.
            reports.append(dispatch_due(now=MONDAY, batch_size=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reports) == 2  # neither thread failed
    ids = [q.message_id for report in reports for q in report.queued]
    assert sorted(ids, key=str) == sorted((m.pk for m in messages), key=str)
    queued_events = Activity.objects.for_workspace(workspace).filter(type="message.queued")
    assert queued_events.count() == len(messages)
    assert not Message.unscoped_objects.filter(
        workspace=workspace, status=Message.Status.APPROVED
    ).exists()
    # Eager here: each queued message was sent as its pass committed, once per address.
    for message in messages:
        assert len(smtp_server.messages_to(message.enrollment.lead.email)) == 1


def test_beat_runs_a_pass_every_minute(settings, campaign, mailbox):
    from outreach.tasks import dispatch_due_task, record_no_response_task

    entry = settings.CELERY_BEAT_SCHEDULE["send.dispatch_due"]
    assert (entry["task"], entry["schedule"]) == ("send.dispatch_due", 60)
    assert settings.CELERY_BEAT_SCHEDULE["send.record_no_response"]["task"] == (
        "send.record_no_response"
    )
    assert dispatch_due_task.name == "send.dispatch_due"
    assert record_no_response_task.name == "send.record_no_response"
    # The task is a pass with the real clock: a message approved in the future waits.
    message = approved(campaign, approved_at=datetime(2999, 1, 1, tzinfo=UTC))
    dispatch_due_task.delay()
    assert status(message) == Message.Status.APPROVED


def test_the_ui_can_say_why_an_approved_message_waits(settings, campaign, mailbox):
    from outreach.selectors import message_waiting_reason

    settings.APPROVAL_GRACE_SECONDS = 120
    just_approved = approved(campaign, approved_at=MONDAY - timedelta(seconds=30))
    assert message_waiting_reason(message=just_approved, now=MONDAY) == (
        "in the undo window until 10:01:30 UTC"
    )
    later = approved(campaign, lead_timezone="Europe/Berlin", due_at=MONDAY + timedelta(days=2))
    assert message_waiting_reason(message=later, now=MONDAY) == (
        "next step due Wed 9 Dec 11:00 Europe/Berlin"
    )
    night = approved(campaign, lead_timezone="Asia/Tokyo")
    gone = approved(campaign)
    dispatch_due(now=MONDAY)  # 19:00 in Tokyo
    assert message_waiting_reason(message=fresh(night), now=MONDAY) == (
        "outside the sending window until Tue 8 Dec 08:00 Asia/Tokyo"
    )
    assert message_waiting_reason(message=fresh(gone), now=MONDAY) == ""  # it went


def test_the_reason_a_message_waits_is_on_the_campaign_page_and_in_the_api(web, api, workspace):
    from outreach.models import Message
    from tests.factories import MessageFactory

    message = MessageFactory(
        workspace=workspace,
        status=Message.Status.APPROVED,
        hold_reason="outside the sending window until 08:00 Europe/Berlin",
    )
    page = web.get(f"/campaigns/{message.enrollment.campaign_id}/").content.decode()
    assert "Waiting: outside the sending window until 08:00 Europe/Berlin" in page
    listed = api.get("/api/v1/messages/", {"status": "approved"}).json()["results"]
    assert listed[0]["hold_reason"] == "outside the sending window until 08:00 Europe/Berlin"


# --- a mailbox that cannot send lawful mail -------------------------------------------


def test_a_mailbox_without_a_postal_address_is_not_used_and_the_message_says_why(
    workspace, campaign, mailbox
):
    Mailbox.objects.for_workspace(workspace).filter(pk=mailbox.pk).update(postal_address=" ")
    message = approved(campaign)
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.APPROVED
    assert "postal address" in hold(message)
    # Another mailbox of the campaign that has one takes over.
    other = MailboxFactory(workspace=workspace, min_interval_seconds=0)
    campaign.mailboxes.add(other)
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.QUEUED
    assert fresh(message).mailbox_id == other.pk


def test_a_thread_whose_mailbox_lost_its_postal_address_waits_with_the_reason(
    workspace, campaign, mailbox
):
    message = approved(campaign)
    Enrollment.objects.for_workspace(workspace).filter(pk=message.enrollment_id).update(
        mailbox=mailbox
    )
    Mailbox.objects.for_workspace(workspace).filter(pk=mailbox.pk).update(postal_address="")
    dispatch_due(now=MONDAY)
    assert status(message) == Message.Status.APPROVED
    assert hold(message) == f"the thread's mailbox {mailbox.from_email} has no postal address"
