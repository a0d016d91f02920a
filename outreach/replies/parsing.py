"""Raw MIME to what it says: pure functions, no database (`manage.py parse_email` uses them).

Interface shared by ingest and handling; the dataclasses live in `types` and are re-exported
here. The steps live beside it: `decode` (MIME, headers, charsets), `visible` (quoted
history, signatures, language), `autoreply`, `bounces` and `rules` (the classifier).
"""

from __future__ import annotations

import datetime
from email.message import EmailMessage

from outreach.replies import autoreply, bounces, decode, rules, visible
from outreach.replies.types import Bounced, Classification, ParsedEmail, UnparseableEmail

__all__ = [
    "Bounced",
    "Classification",
    "ParsedEmail",
    "UnparseableEmail",
    "classify_rules",
    "parse_raw",
]


def parse_raw(raw: bytes, *, received_at: datetime.datetime | None = None) -> ParsedEmail:
    """Parse one raw message. Raises UnparseableEmail when nothing can be read."""
    msg, defects = decode.message_from_bytes(raw)
    parsed = ParsedEmail(defects=defects)
    _read_headers(parsed, msg)
    body = decode.body(msg)
    defects += body.defects
    parsed.text = body.text
    parsed.visible_text, header_language = visible.visible_text(body.visible_source)
    parsed.language = visible.detect_language(parsed.visible_text, header_language)
    ours = set(parsed.to)
    parsed.is_bounce = bounces.looks_like_bounce(msg, parsed.from_email, parsed.subject)
    if parsed.is_bounce:
        parsed.bounced = bounces.bounced_recipients(msg, raw, ours=ours, text=body.text)
        return parsed
    parsed.is_auto_reply = autoreply.is_auto_reply(msg, parsed.subject, defects)
    if parsed.is_auto_reply:
        sent = (parsed.date or received_at or datetime.datetime.now(datetime.UTC)).date()
        parsed.out_of_office_until = autoreply.return_date(
            parsed.visible_text or parsed.text, sent=sent, language=parsed.language
        )
    return parsed


def _read_headers(parsed: ParsedEmail, msg: EmailMessage) -> None:
    defects = parsed.defects
    parsed.message_id = next(
        iter(decode.message_ids(decode.header(msg, "message-id", defects))), ""
    )
    parsed.in_reply_to = next(
        iter(decode.message_ids(decode.header(msg, "in-reply-to", defects))), ""
    )
    parsed.references = decode.message_ids(decode.header(msg, "references", defects))[:100]
    parsed.from_name, parsed.from_email = decode.sender(msg, defects)
    parsed.to = decode.recipients(msg, defects)
    parsed.subject = decode.header(msg, "subject", defects)[:998]
    parsed.date = decode.sent_at(msg, defects)


def classify_rules(parsed: ParsedEmail) -> Classification:
    """The rules-based classifier: used when no model is configured, and as the fallback."""
    return rules.classify(parsed)
