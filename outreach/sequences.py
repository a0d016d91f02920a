"""Sequences: what follows a sent step, and when a sequence ends.

After a step is sent (`after_sent`, called by the sending code), the next step's message
is created in DRAFTING, due a number of business days later in the recipient's own time
zone (weekends and the workspace's holidays skipped), and drafted; after the last step
the enrollment is FINISHED ("sequence finished"). A reply, bounce, unsubscribe or
suppression stops it earlier (outreach/outcomes.py, outreach/dispatch.py). A finished
sequence that got no answer becomes a "no response" outcome some days later
(`enrollments_record_no_response`, daily on beat).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from outreach.dispatch import holiday_dates, zone_first
from outreach.messages import messages_enqueue_drafting
from outreach.models import Enrollment, Message, Outcome, SequenceStep
from outreach.outcomes import FINAL, outcome_record
from outreach.review import message_activity
from sdr.activity import activity_record

SEQUENCE_FINISHED = "sequence finished"


def add_business_days(start: date, days: int, *, holidays: frozenset[date]) -> date:
    """`days` business days after `start` (Monday to Friday, not a holiday). Zero days is
    `start` itself, or the next business day if `start` is not one."""
    day = start
    while day.weekday() >= 5 or day in holidays:
        day += timedelta(days=1)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            remaining -= 1
    return day


def next_step_due(*, message: Message, sent_at: datetime, step: SequenceStep) -> datetime:
    """When the next step may go: `step.delay_business_days` business days after the
    send, at the same wall-clock time in the recipient's zone (DST handled by zoneinfo)."""
    enrollment = message.enrollment
    zone = zone_first(
        enrollment.lead.timezone, enrollment.campaign.timezone, message.workspace.timezone
    )
    if step.delay_business_days == 0:
        return sent_at
    local = sent_at.astimezone(zone)
    holidays = frozenset(holiday_dates(message.workspace.holidays))
    day = add_business_days(local.date(), step.delay_business_days, holidays=holidays)
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=zone)


def after_sent(*, message: Message) -> None:
    """A step went out: create and queue the next step's draft, or finish the sequence."""
    with transaction.atomic():
        enrollment = (
            # The enrollment alone (not the joined campaign, lead and workspace, which
            # every insert pointing at them would wait for), and NO KEY: a message of its
            # may be committing.
            Enrollment.unscoped_objects.select_for_update(of=("self",), no_key=True)
            .select_related("campaign", "lead", "workspace")
            .get(pk=message.enrollment_id)
        )
        if enrollment.status != Enrollment.Status.ACTIVE:
            return  # replied, paused or stopped meanwhile: nothing follows
        message = Message.unscoped_objects.select_related(
            "workspace", "step", "enrollment__lead", "enrollment__campaign"
        ).get(pk=message.pk)
        step = (
            SequenceStep.unscoped_objects.filter(
                campaign_id=enrollment.campaign_id, order__gt=message.step.order
            )
            .order_by("order")
            .first()
        )
        if step is None:
            _finish(enrollment)
            return
        sent_at = message.sent_at or timezone.now()
        references = " ".join(
            part for part in (message.references, message.message_id_header) if part
        )
        follow_up = Message(
            workspace_id=enrollment.workspace_id,
            enrollment=enrollment,
            step=step,
            status=Message.Status.DRAFTING,
            due_at=next_step_due(message=message, sent_at=sent_at, step=step),
            mailbox_id=enrollment.mailbox_id or message.mailbox_id,
            in_reply_to=message.message_id_header,
            references=references[-4000:],
        )
        try:
            with transaction.atomic():
                follow_up.save(force_insert=True)
        except IntegrityError:
            return  # created already (the send task ran twice): one message per step
        Enrollment.unscoped_objects.filter(pk=enrollment.pk).update(
            current_step=step, updated_at=timezone.now()
        )
        follow_up.enrollment = enrollment
        message_activity(
            follow_up,
            "message.created",
            step=step.order,
            due_at=follow_up.due_at.isoformat() if follow_up.due_at else None,
        )
        messages_enqueue_drafting(message_ids=[follow_up.pk])


def _finish(enrollment: Enrollment) -> None:
    enrollment.status = Enrollment.Status.FINISHED
    enrollment.stop_reason = SEQUENCE_FINISHED
    enrollment.save(update_fields=["status", "stop_reason", "updated_at"])
    activity_record(
        workspace=enrollment.workspace,
        type="enrollment.finished",
        object_type="enrollment",
        object_id=enrollment.pk,
        payload={
            "lead": str(enrollment.lead_id),
            "campaign": str(enrollment.campaign_id),
            "status": enrollment.status,
            "reason": SEQUENCE_FINISHED,
        },
    )


def enrollments_record_no_response(*, now: datetime | None = None) -> int:
    """Record "no response" for sequences that finished, last sent at least
    NO_RESPONSE_AFTER_DAYS ago, whose lead has no answer on record; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.NO_RESPONSE_AFTER_DAYS)
    answered = Outcome.unscoped_objects.filter(
        lead=OuterRef("lead"), kind__in=[*FINAL, Outcome.Kind.NO_RESPONSE]
    )
    # A lead tried again in another campaign meanwhile is left alone: recording the
    # outcome now would end that sequence too (see outreach/outcomes.py).
    active = Enrollment.unscoped_objects.filter(
        lead=OuterRef("lead"), status=Enrollment.Status.ACTIVE
    )
    candidates = (
        Enrollment.unscoped_objects.filter(
            status=Enrollment.Status.FINISHED, stop_reason=SEQUENCE_FINISHED
        )
        .exclude(Exists(answered))
        .exclude(Exists(active))
        .annotate(last_sent=Max("messages__sent_at"))
        .filter(last_sent__lte=cutoff)
        .select_related("lead", "lead__workspace", "campaign")
    )
    recorded = 0
    for enrollment in candidates.iterator(chunk_size=200):
        last_sent: Any = enrollment.last_sent
        _, created = outcome_record(
            lead=enrollment.lead,
            kind=Outcome.Kind.NO_RESPONSE,
            evidence=(
                f"No reply to the {enrollment.campaign.name!r} sequence; "
                f"last step sent {last_sent:%Y-%m-%d}."
            ),
            source=Outcome.Source.SYSTEM,
            occurred_at=now,
            evidence_type="enrollment",
            evidence_id=enrollment.pk,
        )
        recorded += int(created)
    return recorded
