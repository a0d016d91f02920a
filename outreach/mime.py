"""The email as it goes on the wire: headers, threading, unsubscribe, footer, DKIM.

`outgoing_build` turns a stored message into bytes for `outreach.smtp.smtp_send`. Every
header is built from vetted values only: a subject, a name or an address that carries a
line break or another control character (a scraped company name with CR/LF, say) raises
`UnsafeMessage` instead of being sent, so nothing from outside can add a header. The
email package would refuse some of these itself; we refuse all of them, with words a
person can act on, before it is asked.

Follow-ups thread: "Re: " and the thread's first subject, In-Reply-To the latest message
of the enrollment that went out, References all of them (RFC 5322 section 3.6.4). Every
message carries `List-Unsubscribe` with a mailto and an https one-click URL, and
`List-Unsubscribe-Post` (RFC 8058), and a footer with the sender's postal address and a
plain opt-out line. With a DKIM key on the mailbox, the final bytes are signed (dkimpy),
the unsubscribe headers included, as RFC 8058 asks.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from django.db.models import F

from outreach.models import Mailbox, Message
from outreach.unsubscribe import unsubscribe_url
from sdr.headers import UnsafeHeader, header_value

# CRLF on the wire, no 8-bit data (the body is quoted-printable when it is not ASCII), so
# any server can take it as it is. Lines up to RFC 5322's hard limit of 998: at the usual
# 78 the email package turns a token it cannot fold (the one-click unsubscribe URL) into
# RFC 2047 encoded words, which no mail client reads as a link.
WIRE = policy.SMTP.clone(cte_type="7bit", max_line_length=998)
# The headers a DKIM signature covers, when present. From must be signed (RFC 6376), and
# RFC 8058 asks for both unsubscribe headers.
DKIM_HEADERS = [
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"In-Reply-To",
    b"References",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
    b"Content-Transfer-Encoding",
]


class UnsafeMessage(ValueError):
    """The message cannot be sent as it is; the words say what to fix."""


@dataclass(frozen=True)
class Outgoing:
    message_id: str
    in_reply_to: str
    references: str
    subject: str
    recipient: str
    data: bytes  # exactly what goes on the wire


def outgoing_build(
    *,
    message: Message,
    mailbox: Mailbox,
    recipient: str,
    now: datetime,
    thread: list[Message] | None = None,
) -> Outgoing:
    """The message as it will be sent from `mailbox` to `recipient` at `now`. Its
    Message-ID is the one stored on it, or a new one the caller must store before the
    SMTP call (a retry then sends the same one, so a receiver can tell it is a repeat).
    `thread` is `thread_before(message)`, when the caller looked it up for a batch."""
    if thread is None:
        thread = thread_before(message=message)
    message_id = message.message_id_header or message_id_new(mailbox=mailbox)
    earlier = [m.message_id_header for m in thread]
    subject = _subject(message, thread)
    if message.kind == Message.Kind.ANSWER:
        # An answer continues the lead's reply, not our last step: its threading headers
        # and subject were set from the reply when it was created.
        earlier = message.references.split() or [message.in_reply_to]
        earlier = [*[i for i in earlier if i != message.in_reply_to], message.in_reply_to]
        subject = message.subject.strip()
    url = unsubscribe_url(message=message)

    headers: list[tuple[str, str | Address]] = [
        ("Date", format_datetime(now)),
        ("From", _address(mailbox.from_name, mailbox.from_email, what="the mailbox's From")),
        ("To", _address("", recipient, what="the recipient's")),
        ("Subject", header_text(subject, what="The subject")),
        ("Message-ID", header_text(message_id, what="The Message-ID")),
    ]
    if earlier:
        headers.append(("In-Reply-To", header_text(earlier[-1], what="The In-Reply-To id")))
        headers.append(("References", header_text(" ".join(earlier), what="The References")))
    mailto = (
        f"mailto:{header_text(mailbox.from_email, what='The From address')}?subject=unsubscribe"
    )
    headers.append(
        ("List-Unsubscribe", f"<{mailto}>, <{header_text(url, what='The unsubscribe URL')}>")
    )
    headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    text = body_text(message=message, mailbox=mailbox, unsubscribe=url)
    data = wire_plain(headers, text) or wire_email_package(headers, text)
    if mailbox.dkim_selector and mailbox.dkim_private_key:
        data = dkim_sign(data, mailbox=mailbox)
    return Outgoing(
        message_id=message_id,
        in_reply_to=earlier[-1] if earlier else "",
        references=" ".join(earlier),
        subject=subject,
        recipient=recipient,
        data=data,
    )


def wire_email_package(headers: list[tuple[str, str | Address]], text: str) -> bytes:
    """The message's bytes as the email package writes them: any header, any text."""
    email = EmailMessage(policy=WIRE)
    for name, value in headers:
        email[name] = value
    email.set_content(text, cte="7bit" if text.isascii() else "quoted-printable")
    return email.as_bytes()


# A header value the email package writes back unchanged: printable ASCII words, single
# spaces, no "=?" (which it would read as an RFC 2047 encoded word).
_PLAIN_VALUE = re.compile(r"(?!.*=\?)[!-~]+(?: [!-~]+)*\Z")
# A display name it writes without quotes: atext words (RFC 5322 3.2.3).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")
_LONGEST_LINE = 998  # WIRE's max_line_length
_PLAIN_TAIL = (
    'Content-Type: text/plain; charset="utf-8"',
    "Content-Transfer-Encoding: 7bit",
    "MIME-Version: 1.0",
)


def wire_plain(headers: list[tuple[str, str | Address]], text: str) -> bytes | None:
    """The same bytes as `wire_email_package` for a message of plain ASCII (most of
    them), written directly; None for any other, which the email package writes.

    Not the email package here, for speed: it parses each header value back into a tree
    and folds it again, about 1.4 ms a message, more than the SMTP exchange, for values
    that are already vetted. Anything it might write differently (non-ASCII, quoting,
    encoded words, folding, long lines) goes to it; a test compares the two byte for byte.
    """
    if not text.isascii():
        return None
    lines = []
    for name, value in headers:
        rendered = _plain_address(value) if isinstance(value, Address) else value
        if rendered is None or not _PLAIN_VALUE.match(rendered):
            return None
        lines.append(f"{name}: {rendered}")
    body = text.splitlines()
    if any(len(line) > _LONGEST_LINE for line in [*lines, *body]):
        return None
    return "\r\n".join([*lines, *_PLAIN_TAIL, "", *body, ""]).encode("ascii")


def _plain_address(address: Address) -> str | None:
    if not _PLAIN_ADDRESS.match(address.addr_spec) or ".." in address.addr_spec:
        return None
    if not address.display_name:
        return address.addr_spec
    if not _PLAIN_NAME.match(address.display_name):
        return None
    return f"{address.display_name} <{address.addr_spec}>"


def thread_before(*, message: Message) -> list[Message]:
    """The messages of the same enrollment that went out before this one, oldest first."""
    return list(
        Message.objects.for_workspace(message.workspace)
        .filter(
            enrollment_id=message.enrollment_id,
            step__order__lt=message.step.order,
            status=Message.Status.SENT,
        )
        .exclude(message_id_header="")
        .order_by("sent_at", "step__order")
    )


def threads_before(*, messages: list[Message]) -> dict[Any, list[Message]]:
    """`thread_before` for many messages in one query: {message pk: its thread}."""
    if not messages:
        return {}
    sent = (
        Message.unscoped_objects.filter(
            enrollment_id__in={m.enrollment_id for m in messages}, status=Message.Status.SENT
        )
        .exclude(message_id_header="")
        .annotate(step_order=F("step__order"))
        .order_by("sent_at", "step__order")
    )
    by_enrollment: dict[Any, list[Message]] = {}
    for row in sent:
        by_enrollment.setdefault(row.enrollment_id, []).append(row)
    return {
        m.pk: [
            row
            for row in by_enrollment.get(m.enrollment_id, [])
            if row.workspace_id == m.workspace_id and row.step_order < m.step.order  # type: ignore[attr-defined]
        ]
        for m in messages
    }


def message_id_new(*, mailbox: Mailbox) -> str:
    """A Message-ID on the sender's own domain: receivers look for it to match the From,
    and replies carry it back to us in In-Reply-To."""
    domain = mailbox.from_email.rpartition("@")[2].strip().lower()
    domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    return f"<{uuid.uuid4().hex}@{domain}>"


def _subject(message: Message, thread: list[Message]) -> str:
    if not thread:
        return message.subject.strip()
    first = thread[0].subject.strip()
    return first if first.lower().startswith("re:") else f"Re: {first}"


def body_text(*, message: Message, mailbox: Mailbox, unsubscribe: str) -> str:
    """The plain-text body: the draft, the signature, and the footer with the postal
    address and a plain way out."""
    if not mailbox.postal_address.strip():
        raise UnsafeMessage(
            f"The mailbox {mailbox.from_email} has no postal address for the footer; the law "
            "in most places requires one in every commercial email. Add it to the mailbox."
        )
    parts = [_text(message.body, what="The body").strip()]
    signature = _text(mailbox.signature, what="The mailbox's signature").strip()
    if signature:
        parts.append(signature)
    address = " ".join(_text(mailbox.postal_address, what="The postal address").split())
    parts.append(
        f"{mailbox.from_name or mailbox.from_email}, {address}\n"
        'If you\'d rather not hear from me again, reply "unsubscribe" or use this link:\n'
        f"{unsubscribe}"
    )
    return "\n\n".join(parts) + "\n"


def header_text(value: str, *, what: str) -> str:
    """`value` for a header (through sdr.headers, the one rule for every header we write),
    or UnsafeMessage if it holds a line break, a NUL or another control character."""
    try:
        return header_value(value, what=what)
    except UnsafeHeader as error:
        raise UnsafeMessage(f"{error} Edit it and approve again.") from None


def _address(name: str, address: str, *, what: str) -> Address:
    name = header_text(name, what=f"The name in {what} address")
    address = header_text(address, what=f"{what[0].upper()}{what[1:]} address")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c in address for c in ' <>(),;:"[]\\'):
        raise UnsafeMessage(f"{what[0].upper()}{what[1:]} address {address!r} is not valid.")
    return Address(display_name=name, username=local, domain=domain)


def _text(value: str, *, what: str) -> str:
    """Body text with plain line ends; NUL and other control characters refused."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    for char in value:
        if char not in "\n\t" and unicodedata.category(char) == "Cc":
            raise UnsafeMessage(f"{what} contains a control character ({char!r}).")
    return value


def dkim_sign(data: bytes, *, mailbox: Mailbox) -> bytes:
    """`data` with a DKIM-Signature header in front, or UnsafeMessage if the key is unusable."""
    import dkim

    domain = (mailbox.dkim_domain or mailbox.from_email.rpartition("@")[2]).strip().lower()
    present = _header_names(data)
    headers = [name for name in DKIM_HEADERS if name.lower() in present]
    try:
        signature = dkim.sign(
            data,
            mailbox.dkim_selector.strip().encode("ascii"),
            domain.encode("ascii"),
            str(mailbox.dkim_private_key).encode(),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=headers,
        )
    except (dkim.DKIMException, UnicodeEncodeError, ValueError) as error:
        raise UnsafeMessage(
            f"DKIM signing failed for {mailbox.from_email} ({error}); check the mailbox's "
            "DKIM selector, domain and private key."
        ) from None
    return signature + data


def _header_names(data: bytes) -> set[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return {
        line.split(b":", 1)[0].strip().lower()
        for line in head.split(b"\r\n")
        if b":" in line and not line[:1].isspace()
    }
