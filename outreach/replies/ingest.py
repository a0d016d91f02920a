"""Raw messages in: stored first, then parsed, threaded to our messages, and handed on.

`inbound_store` keeps the raw bytes before anything reads them (IMAP, the webhook and
`ingest_eml` all come through it), once per workspace and content hash, and hints the
processing task after the commit. `inbound_process` claims one stored message, parses it
(`parsing.parse_raw`), finds the thread it belongs to, writes the `Reply`, and calls
`handling.reply_handle` to classify it and act. A message that cannot be parsed stays,
flagged UNPARSEABLE with the reason; `inbound_replay` sends such messages through again
once the parser is fixed.

Threading, strongest evidence first:
1. In-Reply-To, then References (newest first), against our messages' Message-IDs;
2. for a bounce, the addresses it says bounced, against whom we sent to;
3. the sender's address: a lead's, or one we sent to; with the same subject (after the
   "Re:"/"AW:"/"SV:" prefixes) the message of that subject, else the latest one;
4. a colleague: the sender's company domain is the domain of a company we mailed.
A message that matches none is kept as a Reply without a thread (UNMATCHED), so a person
still sees it in the inbox.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from leads.models import Lead
from leads.normalize import is_free_mail
from leads.services import leads_touch
from outreach.models import Enrollment, InboundEmail, Mailbox, Message, Reply
from outreach.replies.parsing import ParsedEmail, UnparseableEmail, parse_raw
from sdr.activity import activity_record
from sdr.domains import registrable_domain
from sdr.models import Workspace
from sdr.queue import hint_after_commit
from sdr.states import Claim, claim, transition, transition_many

logger = logging.getLogger(__name__)

Status = InboundEmail.Status
ThreadMatch = Reply.ThreadMatch
REPLAYABLE = (Status.UNPARSEABLE, Status.UNMATCHED)

# Reply and forward prefixes in the languages our customers' leads write in, with the
# forms mail clients really produce: "Re:", "RE :", "Re[2]:", "AW:", "SV:", "Antw:",
# "Fwd:", "WG:", "TR:", "RV:", "Odp:", "Vs:", "Ynt:", "回复:". A leading "[External]"-style
# tag that gateways add counts as a prefix too.
_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*|"
    r"(?:re|aw|sv|vs|antw|antwort|fw|fwd|wg|tr|rv|res|enc|odp|ynt|ref|réf|r|"
    r"回复|回覆|答复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Thread:
    """What an inbound message answers, and how we know."""

    match: str
    message: Message | None = None
    lead: Lead | None = None
    enrollment: Enrollment | None = None


# --- storing --------------------------------------------------------------------------------


def inbound_store(
    workspace: Workspace,
    raw: bytes,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    imap_uidvalidity: int | None = None,
    imap_uid: int | None = None,
    size: int | None = None,
    hint: bool = True,
) -> tuple[InboundEmail, bool]:
    """Keep one raw message; (the row, True) when new, (the existing row, False) when the
    same bytes were stored before. `size` is the message's real size when `raw` is only a
    part of it (IMAP fetches only the headers of a message over INBOUND_MAX_BYTES).
    `hint=False` leaves the reading to the caller (`ingest_eml` reads in-line).

    A message over INBOUND_MAX_BYTES is kept in part and flagged UNPARSEABLE with the
    reason: never silently dropped, never allowed to fill the database."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = _stored(workspace, digest)
    if existing is not None:
        return existing, False
    limit = settings.INBOUND_MAX_BYTES
    real_size = max(size or 0, len(raw))
    fields: dict[str, Any] = {}
    if real_size > limit:
        raw = raw[:limit]
        fields.update(status=Status.UNPARSEABLE, error=_too_big(real_size, limit))
    try:
        with transaction.atomic():
            inbound = InboundEmail.objects.for_workspace(workspace).create(
                workspace=workspace,
                source=source,
                mailbox=mailbox,
                raw=raw,
                raw_sha256=digest,
                size=real_size,
                imap_uidvalidity=imap_uidvalidity,
                imap_uid=imap_uid,
                **fields,
            )
            activity_record(
                workspace=workspace,
                type="inbound.received",
                object_type="inbound_email",
                object_id=inbound.pk,
                payload={"source": source, "size": real_size, "status": inbound.status},
            )
    except IntegrityError:
        # Two deliveries of the same bytes at once (a webhook retried while the first try
        # is still in flight): the other one stored it.
        found = _stored(workspace, digest)
        if found is None:
            raise
        return found, False
    if hint and inbound.status == Status.RECEIVED:
        from outreach.tasks import process_inbound_task

        hint_after_commit(process_inbound_task, str(inbound.pk))
    return inbound, True


def _stored(workspace: Workspace, digest: str) -> InboundEmail | None:
    return (
        InboundEmail.objects.for_workspace(workspace).filter(raw_sha256=digest).defer("raw").first()
    )


def _too_big(size: int, limit: int) -> str:
    return (
        f"The message is {size / 1_048_576:.1f} MB, over the limit of "
        f"{limit / 1_048_576:.1f} MB (INBOUND_MAX_BYTES): only its first part is kept, "
        "enough to see who sent it. Read it in the mailbox itself."
    )


# --- processing -----------------------------------------------------------------------------


def inbound_process(*, inbound_id: Any) -> InboundEmail | None:
    """Parse, thread and hand on one RECEIVED message; None if another worker has it or it
    is no longer waiting. Parsing is pure; the one outside call (a model, in handling)
    happens outside any transaction."""
    held = claim(
        InboundEmail,
        inbound_id,
        source=Status.RECEIVED,
        target=Status.PROCESSING,
        lease=timedelta(seconds=settings.LEASE_INGEST_SECONDS),
    )
    if held is None:
        return None
    inbound = InboundEmail.unscoped_objects.select_related("workspace", "mailbox").get(
        pk=inbound_id
    )
    try:
        read = _read(inbound, held)
        if read is not None:
            from outreach.replies.handling import reply_handle

            reply, parsed = read
            reply_handle(reply, parsed)
            status = (
                Status.UNMATCHED if reply.thread_match == ThreadMatch.NONE else Status.PROCESSED
            )
            _finish(inbound, held, status, "")
    except Exception as error:
        # A bug, not the message's fault (that is UnparseableEmail): keep the message,
        # say what happened, and let a replay take it again once fixed.
        _finish(
            inbound,
            held,
            Status.UNPARSEABLE,
            f"Internal error while reading this message ({type(error).__name__}); "
            "it is kept and can be replayed once fixed.",
        )
        raise
    inbound.refresh_from_db(fields=["status", "error", "processed_at"])
    return inbound


def _read(inbound: InboundEmail, held: Claim) -> tuple[Reply, ParsedEmail] | None:
    """The Reply for this message (made, or brought up to date on a replay) and what it
    was made from; None when the message ended here (unparseable, or one of our own)."""
    raw = bytes(inbound.raw)
    if len(raw) < inbound.size:
        _finish(inbound, held, Status.UNPARSEABLE, _too_big(inbound.size, len(raw)))
        return None
    try:
        parsed = parse_raw(raw, received_at=inbound.created_at)
    except UnparseableEmail as error:
        _finish(inbound, held, Status.UNPARSEABLE, str(error) or "The message cannot be read.")
        return None
    workspace = inbound.workspace
    if (
        parsed.message_id
        and _ours(workspace).filter(message_id_header__in=_id_forms([parsed.message_id])).exists()
    ):
        # Our own sent message, back in the folder we read (some servers file a copy of
        # what was sent in the inbox): not a reply, and nothing to classify.
        _finish(inbound, held, Status.UNMATCHED, "This is a copy of one of our own messages.")
        return None
    thread = thread_find(workspace=workspace, parsed=parsed)
    with transaction.atomic():
        reply, created = Reply.objects.for_workspace(workspace).update_or_create(
            workspace=workspace, inbound=inbound, defaults=_reply_fields(inbound, parsed, thread)
        )
        activity_record(
            workspace=workspace,
            type="reply.received" if created else "reply.reread",
            object_type="reply",
            object_id=reply.pk,
            payload={
                "inbound": str(inbound.pk),
                "thread_match": thread.match,
                "lead": str(thread.lead.pk) if thread.lead else None,
                "message": str(thread.message.pk) if thread.message else None,
            },
        )
        if created and thread.lead:
            leads_touch({thread.lead.pk: reply.received_at})
    return reply, parsed


def _finish(inbound: InboundEmail, held: Claim, status: str, error: str) -> None:
    transition(
        InboundEmail,
        inbound.pk,
        source=Status.PROCESSING,
        target=status,
        token=held.token,
        error=error[:2000],
        processed_at=timezone.now(),
    )


def _reply_fields(inbound: InboundEmail, parsed: ParsedEmail, thread: Thread) -> dict[str, Any]:
    return {
        "lead": thread.lead,
        "enrollment": thread.enrollment,
        "message": thread.message,
        "thread_match": thread.match,
        "from_email": _clean(parsed.from_email)[:254],
        "from_name": _clean(parsed.from_name)[:200],
        "subject": _clean(parsed.subject)[:500],
        "message_id_header": _clean(parsed.message_id)[:998],
        "in_reply_to": _clean(parsed.in_reply_to)[:998],
        "references": _clean(" ".join(parsed.references)),
        "sent_at": parsed.date,
        "received_at": inbound.created_at,
        "text": _clean(parsed.text),
        "visible_text": _clean(parsed.visible_text),
        "language": _clean(parsed.language)[:10],
        "is_auto_reply": parsed.is_auto_reply,
        "out_of_office_until": parsed.out_of_office_until,
        "is_bounce": parsed.is_bounce,
        "bounced": [
            {
                "address": b.address,
                "permanent": b.permanent,
                "status": b.status,
                "diagnostic": _clean(b.diagnostic)[:500],
            }
            for b in parsed.bounced
        ],
    }


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; a hostile or broken message may carry one.
    return (text or "").replace("\x00", "")


# --- threading ------------------------------------------------------------------------------


def thread_find(*, workspace: Workspace, parsed: ParsedEmail) -> Thread:
    """The message, lead and enrollment an inbound message belongs to, and how we know."""
    ours = _ours(workspace).exclude(message_id_header="")
    if parsed.in_reply_to:
        message = _by_ids(ours, [parsed.in_reply_to])
        if message is not None:
            return _of(ThreadMatch.IN_REPLY_TO, message)
    references = [ref for ref in reversed(parsed.references) if ref != parsed.in_reply_to]
    if references:
        message = _by_ids(ours, references)
        if message is not None:
            return _of(ThreadMatch.REFERENCES, message)
    sent = _ours(workspace).filter(status=Message.Status.SENT)
    for bounced in parsed.bounced:
        message = _latest(sent.filter(_to(bounced.address)))
        if message is not None:
            return _of(ThreadMatch.BOUNCED_ADDRESS, message)
    sender = (parsed.from_email or "").strip().lower()
    if sender and not parsed.is_bounce:
        to_sender = sent.filter(_to(sender))
        subject = subject_normalize(parsed.subject)
        if subject:
            for message in to_sender.order_by("-sent_at")[:50]:
                if subject_normalize(message.subject) == subject:
                    return _of(ThreadMatch.ADDRESS_SUBJECT, message)
        message = _latest(to_sender)
        if message is not None:
            return _of(ThreadMatch.ADDRESS, message)
        lead = Lead.objects.for_workspace(workspace).filter(email__iexact=sender).first()
        if lead is not None:
            return Thread(ThreadMatch.ADDRESS, lead=lead)
        colleague = _colleague(workspace, sent, sender)
        if colleague is not None:
            return _of(ThreadMatch.COLLEAGUE, colleague)
    return Thread(ThreadMatch.NONE)


def subject_normalize(subject: str) -> str:
    """A subject without reply and forward prefixes, case and spacing: "RE : AW: Hello
    there" and "hello  there" are the same thread's subject."""
    text = " ".join((subject or "").split())
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip().casefold()


def _ours(workspace: Workspace) -> QuerySet[Message]:
    return Message.objects.for_workspace(workspace).select_related("enrollment__lead", "enrollment")


def _id_forms(ids: Iterable[str]) -> list[str]:
    """A Message-ID as we may have stored it: we store ours with the angle brackets
    (outreach/mime.py), the parser gives them without; either is matched."""
    forms: list[str] = []
    for value in ids:
        bare = value.strip().strip("<>").strip()
        if bare:
            forms += [f"<{bare}>", bare]
    return forms


def _by_ids(ours: QuerySet[Message], ids: list[str]) -> Message | None:
    """The message named first in `ids` (the newest reference first)."""
    found = {
        m.message_id_header.strip("<>"): m
        for m in ours.filter(message_id_header__in=_id_forms(ids))
    }
    for value in ids:
        message = found.get(value.strip().strip("<>").strip())
        if message is not None:
            return message
    return None


def _to(address: str) -> Q:
    """Messages to this address: as sent, or to the lead who has it now (a lead's address
    corrected after we wrote)."""
    address = address.strip()
    return Q(to_email__iexact=address) | Q(enrollment__lead__email__iexact=address)


def _latest(messages: QuerySet[Message]) -> Message | None:
    return messages.order_by("-sent_at", "-created_at").first()


def _colleague(workspace: Workspace, sent: QuerySet[Message], sender: str) -> Message | None:
    """The latest message to a lead whose company has the sender's domain. Free mail
    (gmail.com) says nothing about a company, and our own mailboxes' domain is us."""
    domain = registrable_domain(sender)
    if not domain or is_free_mail(domain):
        return None
    own = {
        registrable_domain(address)
        for address in Mailbox.objects.for_workspace(workspace).values_list("from_email", flat=True)
    }
    if domain in own:
        return None
    return _latest(sent.filter(enrollment__lead__company__domain=domain))


def _of(match: str, message: Message) -> Thread:
    enrollment = message.enrollment
    return Thread(match, message=message, lead=enrollment.lead, enrollment=enrollment)


# --- replaying -------------------------------------------------------------------------------


def inbound_replay(
    queryset: QuerySet[InboundEmail], *, statuses: Iterable[str] = REPLAYABLE, hint: bool = True
) -> list[Any]:
    """Send messages that ended unparseable (or unmatched) through again: back to
    RECEIVED, their errors cleared, the processing task hinted. Returns the ids moved.
    A Reply already made for one is brought up to date, not made twice."""
    from outreach.tasks import process_inbound_task
    from sdr.queue import hint_each_after_commit

    ids = list(queryset.filter(status__in=list(statuses)).values_list("pk", flat=True))
    with transaction.atomic():
        moved = transition_many(
            InboundEmail, ids, source=list(statuses), target=Status.RECEIVED, error=""
        )
        if hint:
            hint_each_after_commit(process_inbound_task, moved)
    return moved
