"""Sending one queued message: claim it, check again, build it, hand it to SMTP, record.

A message is handed to SMTP at most once (DESIGN.md, invariants):
- the send task claims the message QUEUED -> SENDING with a lease (`sdr.states`); of two
  workers holding the same hint, one wins and the other stops. The other due messages of
  its mailbox go with it on one connection, claimed SEND_GROUP at a time;
- the claim checks again what may have changed since the dispatcher queued it (the
  mailbox, the campaign and the enrollment still active), and the suppression list is
  read again right before each SMTP call;
- the Message-ID and threading headers are stored with the claim, before the call, and
  the call runs with no transaction open (STYLE.md, habit 6);
- a worker that dies while SENDING leaves a lease that runs out; the sweeper then marks
  what it had claimed UNKNOWN for a person (at most a group, sent or not), and nothing
  sends it again by itself. A connection lost after the whole message was handed over
  ends the same way.

Failures: a transient one (4xx, a connection lost before the message was handed over)
goes back to QUEUED, to be tried again after a backoff with jitter, up to
SEND_MAX_ATTEMPTS attempts; a permanent one (5xx) fails the message with the server's
words, and a 5xx on the recipient suppresses the address and records a bounce.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from leads.contactability import suppression_add, suppression_reasons
from leads.models import Suppression
from leads.services import leads_touch
from outreach.mime import Outgoing, UnsafeMessage, outgoing_build, threads_before
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome
from outreach.outcomes import outcome_record
from outreach.review import message_activity, message_event
from outreach.smtp import SmtpError, SmtpResult, SmtpSession
from sdr.activity import activities_record, activity_record
from sdr.bulk import rows_update
from sdr.notify import owners_notify
from sdr.queue import hint_after_commit, hint_each_after_commit
from sdr.states import Claim, claim, claim_many, lease_renew, transition, transition_many

logger = logging.getLogger(__name__)


# The most messages one send task takes for a mailbox: one SMTP connection for all of them.
SEND_BATCH = 50
# Messages are claimed together (one UPDATE) and recorded together (one commit) in groups
# of this size: on a kept connection a claim and a record each cost more than the SMTP
# exchange. A worker killed in the middle of a group leaves its claimed messages to the
# sweeper, which marks them UNKNOWN: at most this many for a person to check, none sent
# twice. Each is still checked against the suppression list right before its SMTP call.
SEND_GROUP = 10


def message_send(*, message_id: Any, now: datetime | None = None) -> Message | None:
    """Send a QUEUED message; None if another worker has it, it is no longer queued, or
    it waits for the backoff of an earlier attempt. `now` is the clock (tests pass one).

    With it, on the same SMTP connection, go the other queued messages of its mailbox
    planned no later than it (up to SEND_BATCH in all, within a share of the task's time
    limit), claimed and recorded in groups of SEND_GROUP; their own hints, when they come,
    find them sent and stop. A worker that dies leaves the rest QUEUED, and their hints
    send them."""
    batch = _Batch(now)
    if str(message_id) in _sent_here or _not_to_claim(message_id, batch.clock()):
        return None
    held = _claim_send(message_id)
    if held is None:
        return None
    message = _load([message_id])[0]
    try:
        outgoing = _checked(message, held, batch.clock())
        if outgoing is None:
            return message
        assert message.mailbox is not None  # set by the checks
        # Due: planned no later than now, or than this message, whose hint has just come
        # (the demo's dispatcher plans with a clock of its own, `--now`).
        due = max(batch.clock(), message.due_at or batch.clock())
        batch.adopt(message.mailbox, due=due)
        batch.send_group([(message, held, outgoing)])
        batch.send_rest()
    finally:
        batch.close()
    return message


_Ready = tuple[Message, Claim, Outgoing]  # claimed, checked, headers stored: to hand over


class _SentHere:
    """The ids of the messages this process sent lately. Their own hints come after the
    batch that sent them, often to this same worker, and are dropped without a query: a
    sent message is never queued again. Bounded; an id that fell out is looked up."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self._lock = threading.Lock()

    def __contains__(self, message_id: str) -> bool:
        return message_id in self._ids

    def add(self, messages: list[Message]) -> None:
        with self._lock:
            self._ids.update(dict.fromkeys(str(m.pk) for m in messages))
            while len(self._ids) > self.LIMIT:
                del self._ids[next(iter(self._ids))]


_sent_here = _SentHere()


class _Batch:
    """The sends of one task: one SMTP session per mailbox; its messages claimed, sent and
    recorded a group at a time; and what the sent messages change beyond themselves (the
    mailbox's last send, the thread's mailbox, the next step), written set-based at the
    end: for a worker killed before that, `sequences_repair` advances them."""

    def __init__(self, now: datetime | None) -> None:
        self.now = now
        self.started = time.monotonic()
        self.sessions: dict[Any, SmtpSession] = {}
        self.sent: list[Message] = []
        self.waiting: list[tuple[Message, list[Message]]] = []  # adopted, with threads
        self.stop = False  # a connection failed: leave the rest to their own hints

    def clock(self) -> datetime:
        return self.now or timezone.now()

    def session(self, mailbox: Mailbox) -> SmtpSession:
        if mailbox.pk not in self.sessions:
            self.sessions[mailbox.pk] = SmtpSession(mailbox)
        return self.sessions[mailbox.pk]

    def adopt(self, mailbox: Mailbox, *, due: datetime) -> None:
        """Take the mailbox's other messages planned by `due` into the batch."""
        adopted = _adopt(mailbox, due, SEND_BATCH - 1)
        if adopted:
            messages = _load(adopted)
            threads = threads_before(messages=messages)
            self.waiting = [(m, threads[m.pk]) for m in messages]

    def send_rest(self) -> None:
        while self.waiting and self._may_go_on():
            group, self.waiting = self.waiting[:SEND_GROUP], self.waiting[SEND_GROUP:]
            ready, unclaimed = _claim_group(group, self.clock())
            self.send_group(ready)
            for message in unclaimed:
                if not self._may_go_on():
                    return
                one = _claim_alone(message, self.clock())
                if one is not None:
                    self.send_group([one])

    def send_group(self, group: list[_Ready]) -> None:
        """SMTP for each claimed message, then one record of those the server took. A
        message not handed over (the connection failed before it, or a bug) goes back
        to QUEUED for its own hint."""
        delivered: list[tuple[Message, Claim, SmtpResult]] = []
        try:
            for position, (message, held, outgoing) in enumerate(group):
                if self.stop:
                    _release(group[position:])
                    break
                result = None
                try:
                    result = self._hand_over(message, held, outgoing)
                except Exception:
                    _release(group[position + 1 :])
                    raise
                if result is not None:
                    delivered.append((message, held, result))
        finally:
            # Also after a bug: what the server took is recorded. If the record itself
            # fails, the lease runs out and the sweeper marks them UNKNOWN.
            recorded = _record_sent(delivered, self.clock())
            self.sent.extend(recorded)
            _sent_here.add(recorded)

    def _hand_over(self, message: Message, held: Claim, outgoing: Outgoing) -> SmtpResult | None:
        """The last check and the SMTP call; None if the message did not go (it was moved
        where it belongs, with the reason). Raises on a bug, after saying in the message
        what is known."""
        mailbox = message.mailbox
        assert mailbox is not None  # set by the checks
        if _refused_as_suppressed(message, held):
            return None
        try:
            return self.session(mailbox).send(message=outgoing.data, recipient=outgoing.recipient)
        except SmtpError as error:
            # An unavailable server fails the same way for every message of the batch:
            # those wait for their own hints (and their backoff) instead.
            self.stop = _server_unavailable(error) and not error.handed_over
            if error.mailbox_fault:
                _mailbox_failing(message, held, error, self.clock())
            else:
                _failed(message, held, error, self.clock())
            return None
        except Exception as error:
            # A bug, not an answer from the server (those are SmtpError): nobody knows
            # whether the message went.
            reason = f"Internal error while sending ({type(error).__name__})."
            _unknown(message, held, f"{reason} It may or may not have been sent.")
            raise

    def _may_go_on(self) -> bool:
        # Start no send after a connection failed, nor past a quarter of the task's soft
        # limit, so that the slowest server answer still ends well inside it; the rest
        # are sent by their own hints.
        budget = settings.CELERY_TASK_SOFT_TIME_LIMIT / 4
        return not self.stop and time.monotonic() - self.started <= budget

    def close(self) -> None:
        try:
            if self.sent:
                sent_effects_record(self.sent, self.clock())
        finally:
            for session in self.sessions.values():
                session.close()


def _load(ids: list[Any]) -> list[Message]:
    rows = Message.unscoped_objects.select_related(
        "workspace",
        "step",
        "mailbox",
        "enrollment__lead",
        "enrollment__campaign",
        "enrollment__mailbox",
    ).filter(pk__in=ids)
    by_pk = {str(m.pk): m for m in rows}
    return [by_pk[str(pk)] for pk in ids if str(pk) in by_pk]


def _adopt(mailbox: Mailbox, due: datetime, limit: int) -> list[Any]:
    """Reserve up to `limit` queued messages of the mailbox planned by `due`,
    oldest plan first, with a lease: two workers never take the same ones into their
    batches (rows another worker is reserving are skipped, not waited for). The
    reservation keeps the message QUEUED; each is still claimed before sending, so a
    message's own hint may take it first, and one of the two stops."""
    lease_now = timezone.now()
    with transaction.atomic():
        ids = list(
            Message.unscoped_objects.filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=lease_now),
                workspace_id=mailbox.workspace_id,
                mailbox=mailbox,
                status=Message.Status.QUEUED,
                due_at__lte=due,
            )
            .order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Message.unscoped_objects.filter(pk__in=ids).update(
                claimed_until=lease_now + _send_lease(),
                claim_token=uuid.uuid4(),
            )
    return ids


def _claim_group(
    group: list[tuple[Message, list[Message]]], now: datetime
) -> tuple[list[_Ready], list[Message]]:
    """Build the group's messages, then claim in one UPDATE those still clear to send
    (`_still_clear`), and store each one's headers in the same transaction. Returns the
    claimed, and the others (not built, not clear, or taken meanwhile) for the full checks."""
    built: dict[Any, tuple[Message, Mailbox, Outgoing]] = {}
    for message, thread in group:
        mailbox = message.mailbox or message.enrollment.mailbox
        recipient = message.to_email or message.enrollment.lead.email
        outgoing = _built(message, mailbox, recipient, thread, now)
        if outgoing is not None and mailbox is not None:
            built[message.pk] = (message, mailbox, outgoing)
    ready: list[_Ready] = []
    if built:
        with transaction.atomic():
            token, taken = claim_many(
                Message, list(built), **_SEND_CLAIM, lease=_send_lease(), where=_still_clear()
            )
            for pk in taken:
                message, mailbox, outgoing = built[pk]
                message.status = Message.Status.SENDING
                message.message_id_header = outgoing.message_id
                message.in_reply_to, message.references = outgoing.in_reply_to, outgoing.references
                message.to_email, message.mailbox = outgoing.recipient, mailbox
                ready.append((message, Claim(message.pk, token), outgoing))
            rows_update(Message, [m for m, _, _ in ready], _STORED_BEFORE_SMTP)
    claimed = {m.pk for m, _, _ in ready}
    return ready, [m for m, _ in group if m.pk not in claimed]


# What a message's claim stores before the SMTP call: a reply, or a person checking the
# mailbox's Sent folder after a crash, finds the message by them.
_STORED_BEFORE_SMTP = ("message_id_header", "in_reply_to", "references", "to_email", "mailbox")


def _still_clear() -> Q:
    """What may have changed since the dispatcher queued a message, as conditions of its
    claim: the mailbox active, and for a sequence step the campaign and the enrollment
    still active. (The suppression list is checked right before each SMTP call.)"""
    return Q(mailbox__status=Mailbox.Status.ACTIVE) & (
        Q(kind=Message.Kind.ANSWER)
        | Q(
            enrollment__status=Enrollment.Status.ACTIVE,
            enrollment__campaign__status=Campaign.Status.ACTIVE,
        )
    )


def _claim_alone(message: Message, now: datetime) -> _Ready | None:
    """Claim one message of the batch that its group did not take; None if it does not go
    (its own hint took it, or the full checks moved it where it belongs, with the same
    words as a single send)."""
    held = _claim_send(message.pk)
    if held is None:
        return None
    message = _load([message.pk])[0]
    outgoing = _checked(message, held, now)
    return None if outgoing is None else (message, held, outgoing)


def _release(group: list[_Ready]) -> None:
    """Give back claimed messages that were never handed to SMTP: QUEUED again, the
    attempt not counted, and their hints sent again (theirs may have come meanwhile)."""
    from outreach.tasks import send_message_task

    if not group:
        return
    with transaction.atomic():
        back = transition_many(
            Message,
            [message.pk for message, _, _ in group],
            source=Message.Status.SENDING,
            target=Message.Status.QUEUED,
            token=group[0][1].token,  # a send group is claimed under one token
            send_attempts=F("send_attempts") - 1,
        )
        hint_each_after_commit(send_message_task, back)


def _built(
    message: Message,
    mailbox: Mailbox | None,
    recipient: str,
    thread: list[Message],
    now: datetime,
) -> Outgoing | None:
    if mailbox is None or not recipient:
        return None
    try:
        return outgoing_build(
            message=message, mailbox=mailbox, recipient=recipient, now=now, thread=thread
        )
    except UnsafeMessage:
        return None  # said by the full checks


def _claim_send(message_id: Any) -> Claim | None:
    return claim(Message, message_id, **_SEND_CLAIM, lease=_send_lease())


# QUEUED -> SENDING, counting a send attempt (the machine's attempts field counts
# drafting runs; sends count their own).
_SEND_CLAIM: dict[str, Any] = {
    "source": Message.Status.QUEUED,
    "target": Message.Status.SENDING,
    "attempts": F("attempts"),
    "send_attempts": F("send_attempts") + 1,
}


def _send_lease() -> timedelta:
    return timedelta(seconds=settings.LEASE_SEND_SECONDS)


def _checked(message: Message, held: Claim, now: datetime) -> Outgoing | None:
    """`_prepare`, and a bug there fails the claimed message (nothing was handed over)."""
    try:
        return _prepare(message, held, now)
    except Exception as error:
        reason = f"Internal error while sending ({type(error).__name__})."
        _finish(message, held, Message.Status.FAILED, reason, "message.send_failed")
        raise


def _not_to_claim(message_id: Any, now: datetime) -> bool:
    """True unless the message waits in QUEUED for a worker now: one that is not queued
    (sent already, most often, by the batch of an earlier hint) is looked at once here
    rather than claimed for nothing; one tried before waits until `due_at`, the time its
    backoff set. A first send is not held back: the dispatcher chose its time and hinted
    the task for it, with its own clock (the demo's `dispatch_due --now`)."""
    # Every hint asks this, most of them to find their message sent: one plain statement,
    # not the ORM, whose building of the query cost twice what PostgreSQL took to answer.
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND status = %s "  # noqa: S608 - our table
            "AND (send_attempts = 0 OR due_at IS NULL OR due_at <= %s)",
            [
                Message._meta.pk.get_db_prep_value(message_id, connection),
                Message.Status.QUEUED,
                connection.ops.adapt_datetimefield_value(now),
            ],
        )
        return cursor.fetchone() is None


def _prepare(message: Message, held: Claim, now: datetime) -> Outgoing | None:
    """Check again, build, and store the headers; None if the message does not go now
    (it was moved to where it belongs, with the reason)."""
    enrollment = message.enrollment
    mailbox = message.mailbox or enrollment.mailbox
    recipient = message.to_email or enrollment.lead.email
    # Suppression first: it is final, where the reasons to wait below may pass.
    if recipient and _refused_as_suppressed(message, held, recipient):
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
        lease=_send_lease(),
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


def _refused_as_suppressed(message: Message, held: Claim, recipient: str = "") -> bool:
    """If the address (or its domain) is suppressed, fail the message with the reason
    ("suppressed: unsubscribed") and end the lead's sequence; True if so."""
    recipient = recipient or message.to_email
    why = suppression_reasons(workspace=message.workspace, emails=[recipient]).get(recipient)
    if not why:
        return False
    reason = f"suppressed: {why}"
    _finish(message, held, Message.Status.FAILED, reason, "message.send_failed", attempted=False)
    _stop_enrollment(message, reason)
    return True


def _failed(message: Message, held: Claim, error: SmtpError, now: datetime) -> None:
    if error.handed_over:
        _unknown(message, held, error.message)
        return
    attempts = Message.unscoped_objects.values_list("send_attempts", flat=True).get(pk=message.pk)
    if error.transient and (
        attempts < settings.SEND_MAX_ATTEMPTS or _waiting_out_the_server(message, error, now)
    ):
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


def _mailbox_failing(message: Message, held: Claim, error: SmtpError, now: datetime) -> None:
    """The mailbox's settings were refused (its sign-in, TLS): it is marked failing, so
    the dispatcher holds its messages and says why, and its owners are told once; this
    message waits, approved, its attempt not counted. "Test connection" that succeeds
    makes the mailbox active again, and what waited goes."""
    mailbox = message.mailbox
    assert mailbox is not None  # set by the checks
    with transaction.atomic():
        turned = Mailbox.unscoped_objects.filter(
            pk=mailbox.pk, status=Mailbox.Status.ACTIVE
        ).update(
            status=Mailbox.Status.FAILING,
            last_tested_at=now,
            last_test_result=f"Sending stopped: {error.message}"[:2000],
            updated_at=timezone.now(),
        )
        if turned:
            activity_record(
                workspace=message.workspace,
                type="mailbox.failing",
                object_type="mailbox",
                object_id=mailbox.pk,
                payload={"reason": error.message[:500]},
            )
        hold = f"mailbox {mailbox.from_email} failing: {error.message}"
        _finish(
            message, held, Message.Status.APPROVED, None, "message.held", hold=hold, attempted=False
        )
    if turned:
        owners_notify(
            message.workspace,
            subject=f"Sending from {mailbox.from_email} stopped",
            body=(
                f"{error.message}\n\nNo email goes out from {mailbox.from_email} until its "
                'settings are fixed: update them on the Mailboxes page and press "Test '
                'connection". The emails waiting to go are kept and go out after that.'
            ),
        )


def _server_unavailable(error: SmtpError) -> bool:
    # Not reached at all, or 421, "service not available" (an outage, a rate limit).
    return error.code in (None, 421)


def _waiting_out_the_server(message: Message, error: SmtpError, now: datetime) -> bool:
    """An unavailable server says nothing about this message, so it is waited out for
    SEND_UNREACHABLE_GIVE_UP_HOURS after the message was queued, not given up after
    SEND_MAX_ATTEMPTS as another 4xx is."""
    if not _server_unavailable(error):
        return False
    waited = now - (message.queued_at or now)
    return waited < timedelta(hours=settings.SEND_UNREACHABLE_GIVE_UP_HOURS)


def _retry_later(
    message: Message, held: Claim, error: SmtpError, attempts: int, now: datetime
) -> None:
    from outreach.tasks import send_message_task

    delay = backoff_seconds(attempts)
    due = now + timedelta(seconds=delay)
    if attempts < settings.SEND_MAX_ATTEMPTS:
        reason = f"Attempt {attempts} of {settings.SEND_MAX_ATTEMPTS} failed: {error.message} "
    else:
        reason = f"Attempt {attempts} failed: {error.message} The server is unavailable: "
    reason += f"trying again after {due.astimezone(UTC):%H:%M:%S} UTC."
    with transaction.atomic():
        if _finish(message, held, Message.Status.QUEUED, reason, "message.send_retry", due_at=due):
            hint_after_commit(send_message_task, str(message.pk), countdown=delay)


def backoff_seconds(attempts: int, *, rng: random.Random | None = None) -> float:
    """How long to wait after the `attempts`-th failed attempt: doubling from
    SEND_RETRY_BASE_SECONDS up to SEND_RETRY_MAX_SECONDS, stretched by up to half again at
    random so that the messages a server refused together do not all come back at the
    same second."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not crypto
    base = settings.SEND_RETRY_BASE_SECONDS * 2 ** min(max(0, attempts - 1), 20)
    return float(min(base, settings.SEND_RETRY_MAX_SECONDS) * rng.uniform(1.0, 1.5))


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


def _record_sent(
    delivered: list[tuple[Message, Claim, SmtpResult]], now: datetime
) -> list[Message]:
    """Record the server's acceptance of the messages, each with its activity, in one
    commit; returns those recorded. A message is not ours to record when the sweeper
    took it back (this worker outlived its lease, so it was marked UNKNOWN): the server
    has just said yes, so it is known after all and recorded as SENT."""
    if not delivered:
        return []
    changes: dict[str, Any] = {"sent_at": now, "failure_reason": "", "hold_reason": ""}
    token = delivered[0][1].token  # a send group is claimed under one token
    sending, sent, unknown = Message.Status.SENDING, Message.Status.SENT, Message.Status.UNKNOWN
    with transaction.atomic():
        pks = [message.pk for message, _, _ in delivered]
        moved = set(
            transition_many(Message, pks, source=sending, target=sent, token=token, **changes)
        )
        lost = [pk for pk in pks if pk not in moved]
        late = set()
        if lost:
            late = set(transition_many(Message, lost, source=unknown, target=sent, **changes))
        recorded = []
        for message, _, result in delivered:
            if message.pk not in moved and message.pk not in late:
                logger.warning(
                    "message %s was sent but changed meanwhile; left as it is", message.pk
                )
                continue
            message.status, message.claimed_until, message.claim_token = sent, None, None
            message.sent_at, message.smtp_response = now, f"{result.code} {result.response}"[:2000]
            message.failure_reason = message.hold_reason = ""
            recorded.append(message)
        rows_update(Message, recorded, ["smtp_response"])
        activities_record(
            workspace=delivered[0][0].workspace_id,
            events=[
                message_event(
                    message,
                    "message.sent",
                    mailbox=str(message.mailbox_id),
                    message_id=message.message_id_header,
                    smtp_response=message.smtp_response[:300],
                    **({"after_lease_expired": True} if message.pk in late else {}),
                )
                for message in recorded
            ],
        )
    return recorded


def sent_effects_record(sent: list[Message], now: datetime) -> None:
    """What sent messages change beyond themselves, set-based, after their own records
    committed (a failure here never undoes the record of an email that went): the
    thread keeps its mailbox, the mailbox its latest send (the dispatcher spaces from
    it), the lead its last activity, and the sequence goes on (outreach/sequence_advance.py)."""
    by_mailbox: dict[Any, list[Message]] = {}
    for message in sent:
        by_mailbox.setdefault(message.mailbox_id, []).append(message)
    # An answer to a reply is no step: nothing follows it.
    steps = [m for m in sent if m.kind != Message.Kind.ANSWER]
    with transaction.atomic():
        leads_touch({m.enrollment.lead_id: m.sent_at or now for m in sent})
        for mailbox_id, messages in by_mailbox.items():
            Enrollment.unscoped_objects.filter(
                pk__in=[m.enrollment_id for m in messages], mailbox__isnull=True
            ).update(mailbox_id=mailbox_id, updated_at=timezone.now())
            latest = max(m.sent_at or now for m in messages)
            Mailbox.unscoped_objects.filter(
                Q(last_sent_at__isnull=True) | Q(last_sent_at__lt=latest), pk=mailbox_id
            ).update(last_sent_at=latest, updated_at=timezone.now())
        if steps:
            # Imported here: the sequences bring in the drafting pipeline, which a send
            # worker needs only once a step went out.
            from outreach.sequence_advance import sequences_advance

            sequences_advance(messages=steps)


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
