"""Review of drafts by a person: approve, edit, reject. Each act is stored as feedback."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from outreach.models import Message, MessageFeedback
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode

REVIEWABLE = [Message.Status.PENDING_REVIEW, Message.Status.HELD]


def message_activity(message: Message, type: str, **payload: object) -> None:
    """The message's history: one activity per change, in the change's transaction."""
    activity_record(
        workspace=message.workspace,
        type=type,
        object_type="message",
        object_id=message.pk,
        payload={
            "lead": str(message.enrollment.lead_id),
            "campaign": str(message.enrollment.campaign_id),
            "status": message.status,
            **payload,
        },
    )


def _reviewable(message: Message) -> None:
    if message.status not in REVIEWABLE:
        raise AppError(
            ErrorCode.CONFLICT,
            f"This draft is {message.get_status_display().lower()} and cannot be reviewed now.",
            status_code=409,
        )


@transaction.atomic
def message_approve(
    *,
    message: Message,
    user: User | None,
    subject: str | None = None,
    body: str | None = None,
) -> Message:
    """Approve, optionally with edits; an edited draft is stored as before/after feedback."""
    message = (
        Message.objects.for_workspace(message.workspace).select_for_update().get(pk=message.pk)
    )
    _reviewable(message)
    edited = (subject is not None and subject != message.subject) or (
        body is not None and body != message.body
    )
    feedback = MessageFeedback(
        workspace=message.workspace,
        message=message,
        user=user,
        kind=MessageFeedback.Kind.EDITED if edited else MessageFeedback.Kind.APPROVED,
        subject_before=message.subject,
        body_before=message.body,
    )
    if edited:
        message.subject = (subject if subject is not None else message.subject).strip()[:300]
        message.body = (body if body is not None else message.body).strip()
        if not message.body:
            raise AppError(ErrorCode.INVALID, "An approved email needs a body.")
        feedback.subject_after, feedback.body_after = message.subject, message.body
    feedback.save()
    message.status = Message.Status.APPROVED
    message.reviewed_by, message.reviewed_at = user, timezone.now()
    message.save()
    message_activity(message, "message.approved", edited=edited)
    return message


@transaction.atomic
def message_reject(*, message: Message, user: User | None, reason: str) -> Message:
    reason = reason.strip()
    if not reason:
        raise AppError(
            ErrorCode.INVALID,
            "Say why the draft is rejected: it teaches the drafter.",
            details={"reason": ["This field is required."]},
        )
    message = (
        Message.objects.for_workspace(message.workspace).select_for_update().get(pk=message.pk)
    )
    _reviewable(message)
    MessageFeedback.objects.for_workspace(message.workspace).create(
        workspace=message.workspace,
        message=message,
        user=user,
        kind=MessageFeedback.Kind.REJECTED,
        reason=reason[:2000],
        subject_before=message.subject,
        body_before=message.body,
    )
    message.status = Message.Status.REJECTED
    message.reviewed_by, message.reviewed_at = user, timezone.now()
    message.save()
    message_activity(message, "message.rejected", reason=reason[:500])
    return message
