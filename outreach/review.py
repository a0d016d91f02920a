"""Review of drafts by a person: approve, edit, reject, and undo an approval for a while.

Each act is stored as feedback. An approval may release real email, so it is made safe:
a draft the checks held needs an explicit confirmation, and an approved message waits
`APPROVAL_GRACE_SECONDS` after `approved_at` before the dispatcher may take it, during
which "Undo" puts it back in the queue. Both races with the dispatcher are settled by the
row lock: the dispatcher claims with `select_for_update(skip_locked=True)` and skips a row
locked here; an undo that waits for the dispatcher's lock finds the message queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from outreach import selectors
from outreach.models import Message, MessageFeedback
from sdr.activity import Event, activity_record
from sdr.errors import AppError, ErrorCode
from sdr.headers import header_problem
from sdr.models import Workspace
from sdr.states import transition

REVIEWABLE = [Message.Status.PENDING_REVIEW, Message.Status.HELD]
# Past approval: on its way or gone, no longer anyone's to take back.
ON_ITS_WAY = [
    Message.Status.QUEUED,
    Message.Status.SENDING,
    Message.Status.SENT,
    Message.Status.UNKNOWN,
    Message.Status.FAILED,
]
# The queue's order: held drafts first ("held" sorts before "pending_review"), then the
# oldest; the pk makes it total, so that "next" walks every draft exactly once.
QUEUE_ORDER = ("status", "created_at", "pk")


def message_activity(message: Message, type: str, **payload: object) -> None:
    """The message's history: one activity per change, in the change's transaction."""
    event = message_event(message, type, **payload)
    activity_record(
        workspace=message.workspace,
        type=event.type,
        object_type=event.object_type,
        object_id=event.object_id,
        payload=event.payload,
    )


def message_event(message: Message, type: str, **payload: object) -> Event:
    """A change in the message's history, for `activities_record` (many at once)."""
    return Event(
        type,
        "message",
        message.pk,
        {
            "lead": str(message.enrollment.lead_id),
            "campaign": str(message.enrollment.campaign_id),
            "status": message.status,
            **payload,
        },
    )


def approval_grace() -> timedelta:
    return timedelta(seconds=settings.APPROVAL_GRACE_SECONDS)


def undo_until(message: Message) -> datetime | None:
    """Until when an approved message can be taken back (and may not be dispatched)."""
    if message.status != Message.Status.APPROVED or message.approved_at is None:
        return None
    return message.approved_at + approval_grace()


def _locked(message: Message) -> Message:
    # NO KEY: a row about the message (a feedback, a reply) commits with KEY SHARE on it.
    messages = Message.objects.for_workspace(message.workspace)
    return messages.select_for_update(no_key=True).get(pk=message.pk)


def _reviewable(message: Message) -> None:
    if message.status not in REVIEWABLE:
        raise AppError(
            ErrorCode.CONFLICT,
            f"This draft is {message.get_status_display().lower()} and cannot be reviewed now.",
            status_code=409,
        )


def _plain(text: str) -> str:
    # A browser sends a textarea's line breaks as CRLF and drops a leading newline:
    # neither is an edit.
    return text.replace("\r\n", "\n").strip()


def _edit(message: Message, subject: str | None, body: str | None) -> tuple[str, str, bool]:
    """The subject and body after a person's edit, and whether they changed anything."""
    new_subject = message.subject if subject is None else _plain(subject)[:300]
    # Checked edited or not: approval stores the subject for sending, and a held draft's
    # subject may be the very one the checks refused.
    problem = header_problem(new_subject, what="The subject")
    if problem:
        raise AppError(
            ErrorCode.INVALID, problem + " Edit the subject.", details={"subject": [problem]}
        )
    new_body = message.body if body is None else _plain(body)
    edited = (new_subject, new_body) != (_plain(message.subject), _plain(message.body))
    return new_subject, new_body, edited


def _moved(message: Message, *, source: str, target: str, **changes: Any) -> Message:
    """The status change, made while the row is locked: from the status just read."""
    if not transition(Message, message.pk, source=source, target=target, **changes):
        raise AppError(
            ErrorCode.CONFLICT, "This message changed meanwhile; reload it.", status_code=409
        )
    message.refresh_from_db()
    return message


@transaction.atomic
def message_approve(
    *,
    message: Message,
    user: User | None,
    subject: str | None = None,
    body: str | None = None,
    confirm_held: bool = False,
    now: datetime | None = None,
) -> Message:
    """Approve, optionally with edits (stored as before/after feedback). A draft the checks
    held is approved only with `confirm_held`: a person said so after reading why."""
    now = now or timezone.now()
    message = _locked(message)
    _reviewable(message)
    if message.status == Message.Status.HELD and not confirm_held:
        raise AppError(
            ErrorCode.INVALID,
            "This draft was held by the checks: read why, then confirm to approve it anyway.",
            details={"confirm_held": ["Required to approve a held draft."]},
        )
    new_subject, new_body, edited = _edit(message, subject, body)
    if not new_body:
        raise AppError(ErrorCode.INVALID, "An approved email needs a body.")
    MessageFeedback.objects.for_workspace(message.workspace).create(
        workspace=message.workspace,
        message=message,
        user=user,
        kind=MessageFeedback.Kind.EDITED if edited else MessageFeedback.Kind.APPROVED,
        subject_before=message.subject,
        body_before=message.body,
        subject_after=new_subject if edited else "",
        body_after=new_body if edited else "",
    )
    held = message.status == Message.Status.HELD
    message = _moved(
        message,
        source=message.status,
        target=Message.Status.APPROVED,
        subject=new_subject,
        body=new_body,
        reviewed_by=user,
        reviewed_at=now,
        approved_at=now,
    )
    message_activity(message, "message.approved", edited=edited, confirmed_held=held)
    return message


@transaction.atomic
def message_save_edit(
    *,
    message: Message,
    user: User | None,
    subject: str | None = None,
    body: str | None = None,
) -> Message:
    """Store a person's edit as feedback without approving: the draft keeps waiting (a
    held draft stays held, since its checks looked at the old text)."""
    message = _locked(message)
    _reviewable(message)
    new_subject, new_body, edited = _edit(message, subject, body)
    if not new_body:
        raise AppError(ErrorCode.INVALID, "A draft needs a body.")
    if not edited:
        raise AppError(ErrorCode.INVALID, "Nothing changed: the draft is as it was.")
    MessageFeedback.objects.for_workspace(message.workspace).create(
        workspace=message.workspace,
        message=message,
        user=user,
        kind=MessageFeedback.Kind.EDITED,
        subject_before=message.subject,
        body_before=message.body,
        subject_after=new_subject,
        body_after=new_body,
    )
    message.subject, message.body = new_subject, new_body
    message.save(update_fields=["subject", "body", "updated_at"])
    message_activity(message, "message.edited")
    return message


@transaction.atomic
def message_unapprove(
    *, message: Message, user: User | None, now: datetime | None = None
) -> Message:
    """Take an approval back inside the undo window: the draft returns to the queue (held
    again if its checks failed, so it needs the same confirmation a second time)."""
    now = now or timezone.now()
    message = _locked(message)
    status = message.get_status_display().lower()
    if message.status in ON_ITS_WAY:
        raise AppError(
            ErrorCode.CONFLICT,
            f"It is too late to undo: this message is {status}.",
            status_code=409,
        )
    if message.status != Message.Status.APPROVED:
        raise AppError(
            ErrorCode.CONFLICT,
            f"There is no approval to undo: this message is {status}.",
            status_code=409,
        )
    until = undo_until(message)
    if until is None or now >= until:
        seconds = settings.APPROVAL_GRACE_SECONDS
        raise AppError(
            ErrorCode.CONFLICT,
            f"The undo window ({seconds} seconds after approval) has passed: "
            "the message may be sent at any moment.",
            status_code=409,
        )
    failed_checks = any(not check.get("passed", True) for check in message.checks)
    approved_at = message.approved_at
    message = _moved(
        message,
        source=Message.Status.APPROVED,
        target=Message.Status.HELD if failed_checks else Message.Status.PENDING_REVIEW,
        approved_at=None,
        reviewed_by=None,
        reviewed_at=None,
    )
    message_activity(
        message,
        "message.unapproved",
        approved_at=approved_at.isoformat() if approved_at else None,
        user=user.pk if user is not None else None,
    )
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
    message = _locked(message)
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


# --- the queue, for the review pages ------------------------------------------------------


@dataclass(frozen=True)
class QueuePlace:
    """Where a draft stands in the queue: its 1-based position (None when it is not in the
    queue any more), the queue's size, the draft `n` goes to, and whether that wraps
    round to the start because this is the last one."""

    position: int | None
    total: int
    next: Message | None
    wrapped: bool


def review_queue(*, workspace: Workspace, campaign_id: str = "") -> QuerySet[Message]:
    return selectors.review_queue(workspace=workspace, campaign_id=campaign_id).order_by(
        *QUEUE_ORDER
    )


def queue_place(*, workspace: Workspace, message: Message, campaign_id: str = "") -> QueuePlace:
    queue = review_queue(workspace=workspace, campaign_id=campaign_id)
    status, created, pk = message.status, message.created_at, message.pk
    before = (
        Q(status__lt=status)
        | Q(status=status, created_at__lt=created)
        | Q(status=status, created_at=created, pk__lt=pk)
    )
    after = (
        Q(status__gt=status)
        | Q(status=status, created_at__gt=created)
        | Q(status=status, created_at=created, pk__gt=pk)
    )
    following = queue.filter(after).first()
    wrapped = following is None
    if wrapped:
        following = queue.exclude(pk=pk).first()
    in_queue = message.status in REVIEWABLE
    return QueuePlace(
        position=queue.filter(before).count() + 1 if in_queue else None,
        total=queue.count(),
        next=following,
        wrapped=wrapped and following is not None,
    )


@dataclass(frozen=True)
class UndoOffer:
    message: Message
    until: datetime
    seconds: int  # left in the window, for the page's countdown


def undoable(*, workspace: Workspace, user: User, now: datetime | None = None) -> list[UndoOffer]:
    """This reviewer's approvals still inside the undo window, newest first."""
    now = now or timezone.now()
    grace = approval_grace()
    messages = (
        Message.objects.for_workspace(workspace)
        .filter(status=Message.Status.APPROVED, reviewed_by=user, approved_at__gt=now - grace)
        .order_by("-approved_at")[:3]
    )
    offers = []
    for message in messages:
        until = message.approved_at + grace if message.approved_at else now
        offers.append(UndoOffer(message, until, int((until - now).total_seconds())))
    return offers
