"""Sending one queued message: claim it, check again, build it, hand it to SMTP, record.

A message is handed to SMTP at most once (DESIGN.md, invariants):
- the send task claims the message QUEUED -> SENDING with a lease (`sdr.states.claim`);
  of two workers holding the same hint, one wins and the other stops;
- right before the SMTP call it checks again what may have changed since the dispatcher
  queued it: the suppression list, the campaign and the enrollment still active;
- the Message-ID and threading headers are stored before the call, and the call runs
  with no transaction open (STYLE.md, habit 6);
- a worker that dies while SENDING leaves a lease that runs out; the sweeper then marks
  the message UNKNOWN for a person, and nothing sends it again by itself. A connection
  lost after the whole message was handed over ends the same way.

Failures: a transient one (4xx, a connection lost before the message was handed over)
goes back to QUEUED, to be tried again after a backoff with jitter, up to
SEND_MAX_ATTEMPTS attempts; a permanent one (5xx) fails the message with the server's
words, and a 5xx on the recipient suppresses the address and records a bounce.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from leads.contactability import suppression_add, suppression_reasons
from leads.models import Suppression
from outreach.mime import Outgoing, UnsafeMessage, outgoing_build
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome
from outreach.outcomes import outcome_record
from outreach.review import message_activity
from outreach.smtp import SmtpError, SmtpResult, smtp_send
from sdr.activity import activity_record
from sdr.queue import hint_after_commit
from sdr.states import Claim, claim, lease_renew, transition

logger = logging.getLogger(__name__)


def message_send(*, message_id: Any, now: datetime | None = None) -> Message | None:
    """Send a QUEUED message; None if another worker has it, it is no longer queued, or
    it waits for the backoff of an earlier attempt. `now` is the clock (tests pass one)."""

    def clock() -> datetime:
        return now or timezone.now()

    if _waiting_for_retry(message_id, clock()):
        return None
    held = claim(
        Message,
        message_id,
        source=Message.Status.QUEUED,
        target=Message.Status.SENDING,
        lease=timedelta(seconds=settings.LEASE_SEND_SECONDS),
        # The machine's attempts field counts drafting runs; sends count their own.
        attempts=F("attempts"),
        send_attempts=F("send_attempts") + 1,
    )
    if held is None:
        return None
    message = (
        Message.unscoped_objects.select_related(
            "workspace",
            "step",
            "mailbox",
            "enrollment__lead",
            "enrollment__campaign",
            "enrollment__mailbox",
        )
        .filter(pk=message_id)
        .get()
    )
    handed = False
    try:
        outgoing = _prepare(message, held, clock())
        if outgoing is None:
            return message
        mailbox = message.mailbox
        assert mailbox is not None  # set by _prepare
        handed = True
        try:
            result = smtp_send(mailbox=mailbox, message=outgoing.data, recipient=outgoing.recipient)
        except SmtpError as error:
            _failed(message, held, error, clock())
            return message
        sent = _sent(message, held, mailbox, result, clock())
    except Exception as error:
        # A bug, not an answer from the server (those are SmtpError). Before the hand-over
        # the message failed and says so; after it, nobody knows whether it went.
        reason = f"Internal error while sending ({type(error).__name__})."
        if handed:
            _unknown(message, held, f"{reason} It may or may not have been sent.")
        else:
            _finish(message, held, Message.Status.FAILED, reason, "message.send_failed")
        raise
    if sent:
        _after_sent(message)
    return message


def _waiting_for_retry(message_id: Any, now: datetime) -> bool:
    """A message tried before waits in QUEUED until `due_at`, the time its backoff set.
    A first send is not held back here: the dispatcher chose its time and hinted the task
    for it, with its own clock (the demo's `dispatch_due --now`)."""
    return (
        Message.unscoped_objects.filter(
            pk=message_id, status=Message.Status.QUEUED, send_attempts__gt=0, due_at__gt=now
        )
        .only("pk")
        .exists()
    )


def _prepare(message: Message, held: Claim, now: datetime) -> Outgoing | None:
    """Check again, build, and store the headers; None if the message does not go now
    (it was moved to where it belongs, with the reason)."""
    enrollment = message.enrollment
    mailbox = message.mailbox or enrollment.mailbox
    recipient = message.to_email or enrollment.lead.email
    # Suppression first: it is final, where the reasons to wait below may pass.
    suppressed = _suppressed(message, recipient) if recipient else ""
    if suppressed:
        _finish(
            message,
            held,
            Message.Status.FAILED,
            suppressed,
            "message.send_failed",
            attempted=False,
        )
        _stop_enrollment(message, suppressed)
        return None
    hold = _hold_reason(message, mailbox)
    if hold:
        _finish(
            message,
            held,
            Message.Status.APPROVED,
            None,
            "message.held",
            hold=hold,
            attempted=False,
        )
        return None
    assert mailbox is not None  # no mailbox is a hold reason
    try:
        outgoing = outgoing_build(message=message, mailbox=mailbox, recipient=recipient, now=now)
    except UnsafeMessage as error:
        _finish(
            message,
            held,
            Message.Status.FAILED,
            str(error),
            "message.send_failed",
            attempted=False,
        )
        return None
    stored = lease_renew(
        Message,
        held,
        lease=timedelta(seconds=settings.LEASE_SEND_SECONDS),
        message_id_header=outgoing.message_id,
        in_reply_to=outgoing.in_reply_to,
        references=outgoing.references,
        to_email=recipient,
        mailbox=mailbox,
    )
    if not stored:
        return None  # the sweeper took it back (this worker stalled): it is UNKNOWN now
    message.message_id_header = outgoing.message_id
    message.in_reply_to, message.references = outgoing.in_reply_to, outgoing.references
    message.to_email, message.mailbox = recipient, mailbox
    return outgoing


def _hold_reason(message: Message, mailbox: Mailbox | None) -> str:
    """Why the message must wait after all, in the dispatcher's words, or ""."""
    campaign, enrollment = message.enrollment.campaign, message.enrollment
    # A person's answer to a reply goes although the reply stopped the sequence.
    sequence = message.kind != Message.Kind.ANSWER
    if sequence and campaign.status != Campaign.Status.ACTIVE:
        return f"campaign {campaign.get_status_display().lower()}"
    if sequence and enrollment.status != Enrollment.Status.ACTIVE:
        return f"sequence {enrollment.get_status_display().lower()} for this lead"
    if mailbox is None:
        return "no mailbox: add one to the campaign"
    if mailbox.status != Mailbox.Status.ACTIVE:
        return f"mailbox {mailbox.from_email} {mailbox.get_status_display().lower()}"
    if not (message.to_email or enrollment.lead.email):
        return "the lead has no email address"
    return ""


def _suppressed(message: Message, recipient: str) -> str:
    """Why the address may not be written to ("suppressed: unsubscribed"), or ""."""
    why = suppression_reasons(workspace=message.workspace, emails=[recipient]).get(recipient)
    return f"suppressed: {why}" if why else ""


def _failed(message: Message, held: Claim, error: SmtpError, now: datetime) -> None:
    if error.handed_over:
        _unknown(message, held, error.message)
        return
    attempts = Message.unscoped_objects.values_list("send_attempts", flat=True).get(pk=message.pk)
    if error.transient and attempts < settings.SEND_MAX_ATTEMPTS:
        _retry_later(message, held, error, attempts, now)
        return
    reason = error.message
    if error.transient:
        reason = f"Gave up after {attempts} attempts. The last: {error.message}"
    with transaction.atomic():
        if not _finish(message, held, Message.Status.FAILED, reason, "message.send_failed"):
            return
        if error.recipient_refused:
            _bounced(message, error)


def _retry_later(
    message: Message, held: Claim, error: SmtpError, attempts: int, now: datetime
) -> None:
    from outreach.tasks import send_message_task

    delay = backoff_seconds(attempts)
    due = now + timedelta(seconds=delay)
    reason = (
        f"Attempt {attempts} of {settings.SEND_MAX_ATTEMPTS} failed: {error.message} "
        f"Trying again after {due.astimezone(UTC):%H:%M:%S} UTC."
    )
    with transaction.atomic():
        if _finish(message, held, Message.Status.QUEUED, reason, "message.send_retry", due_at=due):
            hint_after_commit(send_message_task, str(message.pk), countdown=delay)


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """How long to wait after the `attempts`-th failed attempt: doubling from
    SEND_RETRY_BASE_SECONDS, stretched by up to half again at random so that the messages
    a server refused together do not all come back at the same second."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not crypto
    base = settings.SEND_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)
    return float(base * rng.uniform(1.0, 1.5))


def _bounced(message: Message, error: SmtpError) -> None:
    """The server refused the recipient for good: never write to the address again."""
    evidence = f"{message.mailbox or 'The server'} refused {message.to_email}: {error.message}"
    suppression_add(
        workspace=message.workspace,
        value=message.to_email,
        reason=evidence,
        source=Suppression.Source.BOUNCE,
    )
    outcome_record(
        lead=message.enrollment.lead,
        kind=Outcome.Kind.BOUNCED,
        evidence=evidence,
        source=Outcome.Source.SYSTEM,
        evidence_type="message",
        evidence_id=message.pk,
    )


def _sent(
    message: Message, held: Claim, mailbox: Mailbox, result: SmtpResult, now: datetime
) -> bool:
    """Record the server's acceptance; False if the message was not ours to record."""
    changes: dict[str, Any] = {
        "sent_at": now,
        "smtp_response": f"{result.code} {result.response}"[:2000],
        "failure_reason": "",
        "hold_reason": "",
    }
    with transaction.atomic():
        recorded = transition(
            Message,
            message.pk,
            source=Message.Status.SENDING,
            target=Message.Status.SENT,
            token=held.token,
            **changes,
        )
        late = False
        if not recorded:
            # This worker outlived its lease and the sweeper marked the message UNKNOWN;
            # but the server has just said yes, so it is known after all.
            recorded = late = transition(
                Message,
                message.pk,
                source=Message.Status.UNKNOWN,
                target=Message.Status.SENT,
                **changes,
            )
        if not recorded:
            logger.warning("message %s was sent but changed meanwhile; left as it is", message.pk)
            return False
        Enrollment.unscoped_objects.filter(pk=message.enrollment_id, mailbox__isnull=True).update(
            mailbox=mailbox, updated_at=timezone.now()
        )
        Mailbox.unscoped_objects.filter(
            Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=now), pk=mailbox.pk
        ).update(last_sent_at=now, updated_at=timezone.now())
        message.refresh_from_db()
        message_activity(
            message,
            "message.sent",
            mailbox=str(mailbox.pk),
            message_id=message.message_id_header,
            smtp_response=message.smtp_response[:300],
            **({"after_lease_expired": True} if late else {}),
        )
    return True


def _after_sent(message: Message) -> None:
    """What follows a sent step (the next step, or the end of the sequence) belongs to
    outreach/sequences.py; it runs after the send is committed, so a failure there never
    undoes the record of an email that went. An answer to a reply is no step: nothing
    follows it."""
    if message.kind == Message.Kind.ANSWER:
        return
    try:
        from outreach.sequences import after_sent
    except ImportError:  # pragma: no cover - sequences not installed
        return
    after_sent(message=message)


def _unknown(message: Message, held: Claim, reason: str) -> None:
    text = f"{reason} Check the mailbox's Sent folder before sending it again."
    _finish(message, held, Message.Status.UNKNOWN, text, "message.unknown")


def _finish(
    message: Message,
    held: Claim,
    target: str,
    reason: str | None,
    activity: str,
    *,
    hold: str = "",
    attempted: bool = True,
    **changes: Any,
) -> bool:
    """Move our claimed message out of SENDING and say so in its history; False if the
    claim is no longer ours (the sweeper took it). The claim counted a send attempt; a
    message that was not handed to SMTP after all gives it back (`attempted=False`)."""
    if not attempted:
        changes["send_attempts"] = F("send_attempts") - 1
    if hold:
        changes["hold_reason"] = hold[:300]
    elif target == Message.Status.FAILED and reason:
        changes["hold_reason"] = reason[:300]
    with transaction.atomic():
        moved = transition(
            Message,
            message.pk,
            source=Message.Status.SENDING,
            target=target,
            token=held.token,
            reason=reason,
            **changes,
        )
        if not moved:
            return False
        message.refresh_from_db()
        message_activity(message, activity, reason=(reason or hold)[:500])
    return True


def _stop_enrollment(message: Message, reason: str) -> None:
    """A suppressed address ends the lead's sequence, as at dispatch."""
    with transaction.atomic():
        stopped = Enrollment.unscoped_objects.filter(
            pk=message.enrollment_id, status=Enrollment.Status.ACTIVE
        ).update(
            status=Enrollment.Status.STOPPED, stop_reason=reason[:300], updated_at=timezone.now()
        )
        if stopped:
            activity_record(
                workspace=message.workspace,
                type="enrollment.stopped",
                object_type="enrollment",
                object_id=message.enrollment_id,
                payload={
                    "lead": str(message.enrollment.lead_id),
                    "campaign": str(message.enrollment.campaign_id),
                    "status": Enrollment.Status.STOPPED,
                    "reason": reason,
                },
            )
