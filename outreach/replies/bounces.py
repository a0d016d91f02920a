"""Bounces: RFC 3464 delivery status reports, and the free-text ones real servers send."""

from __future__ import annotations

import email
import logging
import re
from email import policy
from email.message import Message
from email.parser import HeaderParser

from flufl.bounce import all_failures

from outreach.replies.decode import checked_address, clean_line
from outreach.replies.types import Bounced

logger = logging.getLogger(__name__)
# flufl.bounce logs each of its ~17 detectors at INFO for every message it scans.
logging.getLogger("flufl.bounce").setLevel(logging.WARNING)

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered mail|returned mail|mail delivery (?:failed|failure|system)|"
    r"delivery (?:status notification|failure|has failed|incomplete)|failure notice|"
    r"could not send message|delayed mail|message delayed|nondeliverable|non remis|"
    r"unzustellbar|nicht zustellbar|no se puede entregar|onbestelbaar|non recapitabile",
    re.IGNORECASE,
)
_MAX_FLUFL_BYTES = 1_000_000
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([45])\d\d[ -]")
_ADDRESS = re.compile(r"<?([A-Za-z0-9._%+'=-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,})>?")
_TEMPORARY_WORDS = re.compile(
    r"temporar|delayed|will (?:retry|continue trying|keep trying)|not yet been delivered|"
    r"still trying|deferred",
    re.IGNORECASE,
)


def looks_like_bounce(msg: Message, from_email: str, subject: str) -> bool:
    if msg.get_content_type() == "multipart/report":
        return str(msg.get_param("report-type") or "").lower() == "delivery-status"
    if _DAEMON.match(from_email):
        return True
    return bool(_BOUNCE_SUBJECT.search(subject)) and not subject.lower().startswith("re:")


def bounced_recipients(msg: Message, raw: bytes, *, ours: set[str], text: str) -> list[Bounced]:
    """Who bounced and whether for good. `ours` are our own addresses, never a bounced one."""
    found = _from_delivery_status(msg)
    if not found:
        found = _from_failed_header(msg, text)
    if not found:
        found = _from_flufl(raw, text)
    if not found:
        found = _from_text(text)
    seen: set[str] = set()
    result = []
    for bounce in found:
        if bounce.address in ours or bounce.address in seen or _DAEMON.match(bounce.address):
            continue
        seen.add(bounce.address)
        result.append(bounce)
    return result


def _from_delivery_status(msg: Message) -> list[Bounced]:
    found: list[Bounced] = []
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            # The first block is about the message; each later one is one recipient.
            found += [b for b in map(_recipient_block, _status_blocks(part)[1:]) if b]
    return found


def _status_blocks(part: Message) -> list[Message]:
    blocks = [block for block in part.get_payload() if isinstance(block, Message)]
    if len(blocks) == 1 and isinstance(rest := blocks[0].get_payload(), str):
        # The stdlib knows only message/delivery-status; the RFC 6533 "global" one arrives
        # as one message whose body holds the per-recipient blocks.
        parser = HeaderParser(policy=policy.compat32)
        blocks += [parser.parsestr(chunk) for chunk in re.split(r"\n\s*\n", rest) if chunk.strip()]
    return blocks


def _recipient_block(block: Message) -> Bounced | None:
    recipient = str(block.get("final-recipient") or block.get("original-recipient") or "")
    address = checked_address(recipient.split(";")[-1])
    action = str(block.get("action", "")).strip().lower()
    status = _STATUS.search(str(block.get("status", "")))
    code = status.group(0) if status else ""
    if not address or action in ("delivered", "relayed", "expanded"):
        return None
    permanent = action == "failed" and not code.startswith("4")
    diagnostic = clean_line(str(block.get("diagnostic-code", "")).split(";", 1)[-1], 500)
    return Bounced(address, permanent, code, diagnostic)


def _from_failed_header(msg: Message, text: str) -> list[Bounced]:
    # Exim names the failed recipients in a header of its own.
    value = str(msg.get("x-failed-recipients", ""))
    addresses = [checked_address(a) for a in re.split(r"[,\s]+", value)]
    return [_with_detail(a, text, permanent=True) for a in addresses if a]


def _from_flufl(raw: bytes, text: str) -> list[Bounced]:
    # flufl.bounce walks compat32 messages; it gets its own parse of the same bytes, cut
    # short: the report is at the top, a returned attachment after it is not needed.
    compat = email.message_from_bytes(raw[:_MAX_FLUFL_BYTES], policy=policy.compat32)
    try:
        temporary, permanent = all_failures(compat)
    except Exception:  # its heuristics are third-party code on hostile input: fall through
        logger.warning("flufl.bounce failed on a message", exc_info=True)
        return []
    found = []
    for addresses, is_permanent in ((permanent, True), (temporary - permanent, False)):
        for value in sorted(addresses):
            address = checked_address(value.decode("utf-8", "replace"))
            if address:
                found.append(_with_detail(address, text, permanent=is_permanent))
    return found


def _from_text(text: str) -> list[Bounced]:
    """Addresses followed closely by an SMTP reply code, as Exchange, qmail and others write."""
    found = []
    for match in _ADDRESS.finditer(text[:50_000]):
        window = text[match.start() : match.end() + 400]
        if _STATUS.search(window) or _SMTP_CODE.search(window):
            address = checked_address(match.group(1))
            if address:
                found.append(_with_detail(address, text, permanent=None))
    return found


def _with_detail(address: str, text: str, *, permanent: bool | None) -> Bounced:
    """Status and diagnostic from the text near the address; they can settle permanence."""
    at = text.lower().find(address)
    window = text[at : at + 600] if at >= 0 else ""
    status = _STATUS.search(window)
    code = status.group(0) if status else ""
    if not code:
        smtp = _SMTP_CODE.search(window)
        code = f"{smtp.group(1)}.0.0" if smtp else ""
    if code:
        permanent = code.startswith("5")
    elif permanent is None:
        permanent = not _TEMPORARY_WORDS.search(text[:5000])
    line = next((ln for ln in window.splitlines()[1:] if _SMTP_CODE.search(ln)), "")
    return Bounced(address, permanent, code, clean_line(line, 500))
