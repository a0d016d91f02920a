"""Drafting stored messages: claim, draft through the pipeline, record the outcome."""

from __future__ import annotations

import random
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from leads.models import Fact
from outreach.briefs_from_db import campaign_brief, lead_brief, step_brief
from outreach.drafting import DraftOutcome, draft_produce
from outreach.models import Campaign, Message
from outreach.review import message_activity
from sdr.errors import AppError, ErrorCode

REDRAFTABLE = [
    Message.Status.HELD,
    Message.Status.FAILED,
    Message.Status.REJECTED,
    Message.Status.PENDING_REVIEW,
]


def messages_enqueue_drafting(*, message_ids: Iterable) -> None:
    from outreach.tasks import draft_message_task

    for message_id in message_ids:
        transaction.on_commit(lambda mid=message_id: draft_message_task.delay(str(mid)))


def message_draft_by_id(*, message_id: str) -> Message | None:
    """Claim a DRAFTING message and draft it; None if another worker has it."""
    message = Message.unscoped_objects.filter(pk=message_id).first()
    if message is None or message.status != Message.Status.DRAFTING:
        return None
    # Compare-and-set on attempts: of two workers holding the same task, one wins.
    claimed = Message.unscoped_objects.filter(
        pk=message_id, status=Message.Status.DRAFTING, attempts=message.attempts
    ).update(attempts=message.attempts + 1)
    if claimed != 1:
        return None
    message = Message.unscoped_objects.select_related(
        "workspace", "enrollment__lead__company", "enrollment__campaign", "step"
    ).get(pk=message_id)
    try:
        return message_draft(message=message)
    except Exception as error:
        # A bug, not a model failure (those come back as outcomes): mark the message for a
        # person rather than leave it drafting forever, and let the task fail loudly.
        Message.unscoped_objects.filter(pk=message.pk, status=Message.Status.DRAFTING).update(
            status=Message.Status.FAILED, failure_reason=f"Internal error ({type(error).__name__})"
        )
        raise


def message_draft(*, message: Message) -> Message:
    campaign = message.enrollment.campaign
    outcome = draft_produce(
        workspace=message.workspace,
        lead=lead_brief(message.enrollment.lead),
        campaign=campaign_brief(campaign),
        step=step_brief(message.step, message),
        other_bodies=_other_bodies(message),
        subject_id=str(message.pk),
        avoid_angles=_colleague_angles(message),
    )
    with transaction.atomic():
        _record(message, outcome, campaign)
    return message


def _other_bodies(message: Message) -> list[str]:
    return list(
        Message.objects.for_workspace(message.workspace)
        .filter(enrollment__campaign_id=message.enrollment.campaign_id, step=message.step)
        .exclude(pk=message.pk)
        .exclude(body="")
        .order_by("-created_at")
        .values_list("body", flat=True)[:500]
    )


def _colleague_angles(message: Message) -> frozenset[str]:
    """Facts already used as the angle for someone else at the same company: two people at
    one company comparing notes should not find the same email."""
    lead = message.enrollment.lead
    if lead.company_id is None:
        return frozenset()
    angles = (
        Message.objects.for_workspace(message.workspace)
        .filter(
            enrollment__campaign_id=message.enrollment.campaign_id,
            enrollment__lead__company_id=lead.company_id,
        )
        .exclude(enrollment__lead=lead)
        .values_list("angle", flat=True)
    )
    return frozenset(a["fact"] for a in angles if isinstance(a, dict) and a.get("fact"))


def _record(message: Message, outcome: DraftOutcome, campaign: Campaign) -> None:
    status, sampled = _status_for(outcome, campaign)
    draft = outcome.draft
    if draft is not None:
        message.subject = draft.subject[:300]
        message.body = draft.body
        message.angle = draft.angle.as_dict()
        message.drafter = draft.drafter
        message.model = draft.model
        message.prompt_version = draft.prompt_version
    message.checks = [check.as_dict() for check in outcome.checks]
    message.failure_reason = outcome.reason
    message.status = status
    message.sampled_for_review = sampled
    message.save()
    if draft is not None:
        cited = Fact.objects.for_workspace(message.workspace).filter(pk__in=draft.citations)
        message.cited_facts.set(cited)
    message_activity(
        message,
        "message.drafted" if draft is not None else "message.draft_failed",
        reason=outcome.reason[:500],
        drafter=message.drafter,
    )


def _status_for(outcome: DraftOutcome, campaign: Campaign) -> tuple[str, bool]:
    if outcome.status == "failed":
        return Message.Status.FAILED, False
    if outcome.status == "held":
        return Message.Status.HELD, False
    if campaign.autonomy == Campaign.Autonomy.AUTO_SEND:
        sampled = random.random() < campaign.review_sample_share  # noqa: S311 - sampling, not crypto
        return (Message.Status.PENDING_REVIEW if sampled else Message.Status.APPROVED), sampled
    return Message.Status.PENDING_REVIEW, False


def message_redraft(*, message: Message) -> Message:
    """Send a held, failed or rejected draft back through drafting (a person asked)."""
    if message.status not in REDRAFTABLE:
        raise AppError(
            ErrorCode.CONFLICT,
            f"A {message.get_status_display().lower()} draft cannot be redrafted.",
            status_code=409,
        )
    Message.objects.for_workspace(message.workspace).filter(pk=message.pk).update(
        status=Message.Status.DRAFTING, updated_at=timezone.now()
    )
    messages_enqueue_drafting(message_ids=[message.pk])
    message.refresh_from_db()
    return message
