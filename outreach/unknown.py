"""Settling a message whose send was interrupted (UNKNOWN): did it go out or not?

The product never sends such a message again by itself: it may have reached the server.
A person who looked in the mailbox's Sent folder says which it was:

- it went out: it is recorded as sent, and the sequence goes on as after any sent step;
- it did not: it goes back to the dispatcher, approved as it was, to leave in its sending
  window under the mailbox's caps, from the same mailbox and with the same Message-ID
  (should the first attempt surface after all, the recipient's mail client sees one
  email, not two).

When the mailbox has IMAP, `unknown_messages_check` looks for each one's Message-ID in
the mailbox's Sent folder and records those it finds as sent. Not finding one proves
nothing (many servers keep no copy of what is submitted over SMTP), so that answer stays
with a person.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from outreach.models import Enrollment, Message
from outreach.review import message_activity
from outreach.sending import sent_effects_record
from sdr.errors import AppError, ErrorCode
from sdr.states import transition

logger = logging.getLogger(__name__)

SENT, SEND_AGAIN = "sent", "send_again"
SETTLEMENTS = {SENT: "It went out", SEND_AGAIN: "It did not go out: send it again"}
# Messages looked up per mailbox and run: one IMAP SEARCH each.
CHECK_BATCH = 50


def message_settle(
    *,
    message: Message,
    outcome: str,
    sent_at: datetime | None = None,
    evidence: str = "",
) -> Message:
    """Record what became of an UNKNOWN message: `SENT` (at `sent_at`, now by default) or
    `SEND_AGAIN`; who said so is the activity's actor, and `evidence` what it went by.
    AppError (409) if it is not unknown any more, so two people, or a person and the
    Sent-folder check, cannot both settle it."""
    if outcome not in SETTLEMENTS:
        raise AppError(
            ErrorCode.INVALID,
            f"Say {SENT!r} (it went out) or {SEND_AGAIN!r} (send it again).",
            details={"outcome": [f"One of: {', '.join(SETTLEMENTS)}."]},
        )
    settled = {"settled": outcome, **({"evidence": evidence[:300]} if evidence else {})}
    if outcome == SENT:
        return _went_out(message, sent_at or timezone.now(), settled)
    return _send_again(message, settled)


def _went_out(message: Message, sent_at: datetime, settled: dict[str, str]) -> Message:
    with transaction.atomic():
        _moved(message, Message.Status.SENT, sent_at=sent_at, hold_reason="")
        message.refresh_from_db()
        message_activity(
            message,
            "message.sent",
            mailbox=str(message.mailbox_id),
            message_id=message.message_id_header,
            **settled,
        )
    # As after any send, once its own record committed: the thread keeps its mailbox, the
    # lead its last activity, and the sequence goes on.
    sent_effects_record([message], sent_at)
    return message


def _send_again(message: Message, settled: dict[str, str]) -> Message:
    with transaction.atomic():
        _moved(message, Message.Status.APPROVED, hold_reason="")
        if message.mailbox_id is not None:
            # The thread stays on the mailbox that made the first attempt.
            Enrollment.unscoped_objects.filter(
                pk=message.enrollment_id, mailbox__isnull=True
            ).update(mailbox_id=message.mailbox_id, updated_at=timezone.now())
        message.refresh_from_db()
        message_activity(message, "message.send_again", **settled)
    return message


def _moved(message: Message, target: str, **changes: Any) -> None:
    if not transition(
        Message, message.pk, source=Message.Status.UNKNOWN, target=target, reason="", **changes
    ):
        status = Message.objects.for_workspace(message.workspace).get(pk=message.pk).status
        raise AppError(
            ErrorCode.CONFLICT,
            f"Only a message whose send was interrupted can be settled; this one is "
            f"{Message.Status(status).label.lower()}.",
            status_code=409,
        )


# --- the Sent-folder check ----------------------------------------------------------------


def unknown_messages_check() -> int:
    """Look for the unknown messages of every mailbox with IMAP in its Sent folder, and
    record those found as sent (the beat task); returns how many were. A mailbox's
    failure is logged and never stops the others."""
    from outreach.replies.imap import ImapError, imap_mailboxes, sent_copies

    mailboxes = imap_mailboxes().filter(messages__status=Message.Status.UNKNOWN).distinct()
    settled = 0
    for mailbox in mailboxes:
        unknown = list(
            Message.unscoped_objects.filter(mailbox=mailbox, status=Message.Status.UNKNOWN)
            .exclude(message_id_header="")
            .select_related("enrollment", "workspace")
            .order_by("updated_at")[:CHECK_BATCH]
        )
        try:
            found = sent_copies(mailbox=mailbox, message_ids=[m.message_id_header for m in unknown])
        except ImapError as error:
            logger.warning("Sent-folder check of mailbox %s failed: %s", mailbox.pk, error)
            continue
        for message in unknown:
            if message.message_id_header in found:
                settled += _settled_by_copy(message, found[message.message_id_header])
    return settled


def _settled_by_copy(message: Message, filed_at: datetime) -> int:
    try:
        message_settle(
            message=message,
            outcome=SENT,
            sent_at=filed_at,
            evidence="A copy with its Message-ID is in the mailbox's Sent folder.",
        )
    except AppError:
        return 0  # a person settled it meanwhile
    return 1
