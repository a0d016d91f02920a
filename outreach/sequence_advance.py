"""What follows sent steps, for a batch of sends at once (the sending code's hook).

The same rules as `outreach.sequences.after_sent`, which does it for one message: after a
step is sent the next step's message is created in DRAFTING, due `delay_business_days`
later (`next_step_due`), threaded under the sent one, and drafted; after the last step
the enrollment is FINISHED. An enrollment that stopped meanwhile (a reply, a pause) gets
nothing. Here the enrollments are locked and the steps read once for the batch, and the
rows and activities are written set-based: the sequence step costs a few queries per
batch instead of about eight per message, which was a fifth of a send's time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from outreach.messages import messages_enqueue_drafting
from outreach.models import Enrollment, Message, SequenceStep
from outreach.sequences import SEQUENCE_FINISHED, next_step_due
from sdr.activity import Event, activities_record


def sequences_advance(*, messages: Iterable[Message]) -> list[Message]:
    """Advance the sequences of sent step messages (loaded with their enrollment, lead,
    campaign, step and workspace); returns the follow-ups created."""
    sent = [m for m in messages if m.kind == Message.Kind.SEQUENCE]
    if not sent:
        return []
    with transaction.atomic():
        # The enrollment rows only, in pk order: two batches never wait in a circle. The
        # plan needs their ids and state; the lead, campaign and workspace it times the
        # next step by are the sent messages' own (loaded with them).
        enrollments = {
            e.pk: e
            for e in Enrollment.unscoped_objects.filter(
                pk__in={m.enrollment_id for m in sent}, status=Enrollment.Status.ACTIVE
            )
            .order_by("pk")
            .select_for_update(no_key=True)
        }
        steps = _steps_by_campaign({e.campaign_id for e in enrollments.values()})
        plan = _Plan()
        for message in sent:
            enrollment = enrollments.get(message.enrollment_id)
            if enrollment is not None:
                plan.add(message, enrollment, steps.get(enrollment.campaign_id, []))
        plan.write()
    return plan.follow_ups


# A sending worker advances its sends at the end of its batch;
# a sent step older than this with nothing after it was lost with a worker.
REPAIR_AFTER = timedelta(minutes=10)


def sequences_repair(*, limit: int = 500) -> int:
    """Advance the sequences whose last sent step has no next message while the
    enrollment is still active: what a worker killed between a send and its batch's
    advance left undone. Returns the number of sent steps advanced."""
    later = Message.unscoped_objects.filter(
        enrollment_id=OuterRef("enrollment_id"),
        kind=Message.Kind.SEQUENCE,
        step__order__gt=OuterRef("step__order"),
    )
    stalled = list(
        Message.unscoped_objects.filter(
            kind=Message.Kind.SEQUENCE,
            status=Message.Status.SENT,
            enrollment__status=Enrollment.Status.ACTIVE,
            sent_at__lt=timezone.now() - REPAIR_AFTER,
        )
        .exclude(Exists(later))
        .select_related(
            "step", "workspace", "enrollment__lead", "enrollment__campaign", "enrollment__workspace"
        )
        .order_by("sent_at")[:limit]
    )
    if stalled:
        sequences_advance(messages=stalled)
    return len(stalled)


def _steps_by_campaign(campaign_ids: set[Any]) -> dict[Any, list[SequenceStep]]:
    steps: dict[Any, list[SequenceStep]] = {}
    for step in SequenceStep.unscoped_objects.filter(campaign_id__in=campaign_ids).order_by(
        "campaign_id", "order"
    ):
        steps.setdefault(step.campaign_id, []).append(step)
    return steps


class _Plan:
    """The rows and activities the batch writes."""

    def __init__(self) -> None:
        self.finished: list[Enrollment] = []
        self.follow_ups: list[Message] = []
        self.events: dict[Any, list[Event]] = {}

    def add(self, message: Message, enrollment: Enrollment, steps: list[SequenceStep]) -> None:
        step = next((s for s in steps if s.order > message.step.order), None)
        payload = {"lead": str(enrollment.lead_id), "campaign": str(enrollment.campaign_id)}
        events = self.events.setdefault(enrollment.workspace_id, [])
        if step is None:
            if enrollment not in self.finished:
                self.finished.append(enrollment)
                events.append(
                    Event(
                        "enrollment.finished",
                        "enrollment",
                        enrollment.pk,
                        {
                            **payload,
                            "status": Enrollment.Status.FINISHED,
                            "reason": SEQUENCE_FINISHED,
                        },
                    )
                )
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
        self.follow_ups.append(follow_up)
        events.append(
            Event(
                "message.created",
                "message",
                follow_up.pk,
                {
                    **payload,
                    "status": Message.Status.DRAFTING,
                    "step": step.order,
                    "due_at": follow_up.due_at.isoformat() if follow_up.due_at else None,
                },
            )
        )

    def write(self) -> None:
        self._drop_existing()
        now = timezone.now()
        if self.finished:
            Enrollment.unscoped_objects.filter(pk__in=[e.pk for e in self.finished]).update(
                status=Enrollment.Status.FINISHED, stop_reason=SEQUENCE_FINISHED, updated_at=now
            )
        if self.follow_ups:
            Message.unscoped_objects.bulk_create(self.follow_ups)
            by_step: dict[Any, list[Any]] = {}
            for follow_up in self.follow_ups:
                by_step.setdefault(follow_up.step_id, []).append(follow_up.enrollment_id)
            for step_id, enrollment_ids in by_step.items():
                Enrollment.unscoped_objects.filter(pk__in=enrollment_ids).update(
                    current_step_id=step_id, updated_at=now
                )
        for workspace_id, events in self.events.items():
            if events:
                activities_record(workspace=workspace_id, events=events)
        if self.follow_ups:
            messages_enqueue_drafting(message_ids=[m.pk for m in self.follow_ups])

    def _drop_existing(self) -> None:
        """A follow-up created already (the step sent twice over, by a redelivered task):
        one message per step, and no second activity for it."""
        if not self.follow_ups:
            return
        existing = set(
            Message.unscoped_objects.filter(
                enrollment_id__in={m.enrollment_id for m in self.follow_ups},
                step_id__in={m.step_id for m in self.follow_ups},
                kind=Message.Kind.SEQUENCE,
            ).values_list("enrollment_id", "step_id")
        )
        dropped = {m.pk for m in self.follow_ups if (m.enrollment_id, m.step_id) in existing}
        # Two sent messages of one enrollment in the batch: the later step's follow-up wins
        # nothing twice either.
        seen: set[tuple[Any, Any]] = set()
        kept = []
        for follow_up in self.follow_ups:
            key = (follow_up.enrollment_id, follow_up.step_id)
            if follow_up.pk in dropped or key in seen:
                dropped.add(follow_up.pk)
                continue
            seen.add(key)
            kept.append(follow_up)
        self.follow_ups = kept
        for workspace_id, events in self.events.items():
            self.events[workspace_id] = [
                e for e in events if not (e.object_type == "message" and e.object_id in dropped)
            ]
