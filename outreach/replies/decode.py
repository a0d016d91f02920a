"""Raw bytes to a message, its headers and its text, whatever the sender's client broke.

Attachments are never decoded, text parts are capped, and the walk over nested parts is
bounded, so a hostile message costs no more than a normal one.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

import charset_normalizer
from bs4 import BeautifulSoup, Tag
from email_validator import EmailNotValidError, validate_email

from outreach.replies.types import UnparseableEmail

MAX_RAW_BYTES = 40_000_000
MAX_TEXT_CHARS = 1_000_000  # per text part, and for the whole body
MAX_PARTS = 200
MAX_DEPTH = 8
MAX_HEADER_CHARS = 2_000
_TOO_DEEP = "too many nested parts; the rest was skipped"

_PART_HEADER = re.compile(rb"^content-type:", re.IGNORECASE | re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")
_SPACES = re.compile(r"[ \t\r\n]+")
_LATIN_CHARSETS = {"ascii", "iso8859-1", "latin-1", "cp1252"}  # as codecs.lookup() names them
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr")
# Where each client starts the quoted history in HTML; everything from there on is old.
_HTML_QUOTE_MARKERS = (
    "blockquote",
    "div.gmail_quote",
    "div.gmail_extra",
    "div#divRplyFwdMsg",
    "div#appendonsend",
    "div.moz-cite-prefix",
    "div.yahoo_quoted",
    "div#mail-editor-reference-message-container",
    "div.OutlookMessageHeader",
)


@dataclass
class Body:
    text: str = ""  # the whole body as text
    visible_source: str = ""  # the body with HTML quote blocks cut, for the visible text
    defects: list[str] = field(default_factory=list)


def message_from_bytes(raw: bytes) -> tuple[EmailMessage, list[str]]:
    """The parsed message and what had to be cut or fixed to read it."""
    if not raw or not raw.strip():
        raise UnparseableEmail("the message is empty")
    if len(raw) > MAX_RAW_BYTES:
        raise UnparseableEmail(f"the message is larger than {MAX_RAW_BYTES // 1_000_000} MB")
    defects: list[str] = []
    # NUL bytes end C strings in every tool downstream; they carry nothing in mail.
    raw = raw.replace(b"\x00", b"")
    # The stdlib parser costs about 2 ms per part: a message built of thousands of parts
    # is cut before it is parsed, not after.
    part_headers = list(_PART_HEADER.finditer(raw))
    if len(part_headers) > MAX_PARTS:
        raw = raw[: part_headers[MAX_PARTS].start()]
        defects.append(_TOO_DEEP)
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    except (ValueError, TypeError, LookupError, IndexError) as exc:
        raise UnparseableEmail(f"the MIME structure could not be read ({exc})") from exc
    if not any(name.lower() in ("from", "date", "message-id", "subject") for name in msg):
        raise UnparseableEmail("no mail headers (From, Date, Subject, Message-ID) were found")
    assert isinstance(msg, EmailMessage)
    defects += [f"MIME: {d.__class__.__name__}" for d in msg.defects][:20]
    return msg, defects


def clean_line(value: str, limit: int = MAX_HEADER_CHARS) -> str:
    """One line of untrusted text: no CR/LF/NUL/control characters, spaces collapsed."""
    value = _CONTROL.sub(" ", value.replace("\r", " ").replace("\n", " "))
    return _SPACES.sub(" ", value).strip()[:limit]


def header(msg: Message, name: str, defects: list[str]) -> str:
    """A header decoded to text; broken encodings are read as well as possible and noted."""
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError, LookupError) as exc:
        defects.append(f"{name} header unreadable ({exc.__class__.__name__})")
        value = _raw_header(msg, name)
    if value is None:
        return ""
    text = _undo_surrogates(str(value))
    for defect in getattr(value, "defects", ()):
        defects.append(f"{name}: {defect.__class__.__name__}")
    return clean_line(text)


def _raw_header(msg: Message, name: str) -> str | None:
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            try:
                return str(make_header(decode_header(str(raw))))
            except (ValueError, LookupError, UnicodeError):
                return str(raw)
    return None


def _undo_surrogates(text: str) -> str:
    """8-bit bytes in headers arrive as surrogate escapes: read them as UTF-8, else cp1252."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def checked_address(value: str) -> str:
    """A syntactically valid address, lower-cased, or "" (no DNS: this runs offline)."""
    address = value.strip().strip("<>").strip()
    if not address or len(address) > 254:
        return ""
    try:
        valid = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return ""
    # The ASCII (punycode) form keeps a look-alike domain visibly apart from the real one.
    return (valid.ascii_email or valid.normalized).lower()


def sender(msg: Message, defects: list[str]) -> tuple[str, str]:
    name, address = parseaddr(header(msg, "from", defects))
    email = checked_address(address)
    if address and not email:
        defects.append("From address is not a valid address")
    return clean_line(name, 200), email


def recipients(msg: Message, defects: list[str]) -> list[str]:
    values = [header(msg, "to", defects)]
    found = (checked_address(address) for _name, address in getaddresses(values))
    return [address for address in found if address][:50]


def message_ids(value: str) -> list[str]:
    return re.findall(r"<([^<>\s]{1,500})>", value) or ([value.strip()] if value.strip() else [])


def sent_at(msg: Message, defects: list[str]) -> datetime.datetime | None:
    value = header(msg, "date", defects)
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        defects.append("Date header unreadable")
        return None
    if when.tzinfo is None:  # RFC 5322 "-0000": the zone is unknown; UTC is the honest guess.
        when = when.replace(tzinfo=datetime.UTC)
    return when


def body(msg: Message) -> Body:
    found = Body()
    plain: list[str] = []
    html: list[str] = []
    for part in _text_parts(msg, found.defects):
        text = _part_text(part, found.defects)
        (html if part.get_content_type() == "text/html" else plain).append(text)
    if plain:
        found.text = _cap("\n\n".join(plain), found.defects)
        found.visible_source = found.text
    elif html:
        joined = "\n".join(html)
        found.text = _cap(html_to_text(joined), found.defects)
        found.visible_source = _cap(html_to_text(joined, cut_quotes=True), found.defects)
    return found


def _cap(text: str, defects: list[str]) -> str:
    if len(text) > MAX_TEXT_CHARS:
        defects.append("text cut at 1 MB")
        return text[:MAX_TEXT_CHARS]
    return text


def _text_parts(part: Message, defects: list[str], depth: int = 0) -> Iterator[Message]:
    """Inline text parts, the plain alternative when there is one; attachments are skipped."""
    if depth > MAX_DEPTH:
        if _TOO_DEEP not in defects:
            defects.append(_TOO_DEEP)
        return
    if not part.is_multipart():
        if part.get_content_type() in ("text/plain", "text/html") and not _is_attachment(part):
            yield part
        return
    payload = part.get_payload()
    children = [child for child in payload if isinstance(child, Message)]
    if part.get_content_subtype() == "alternative":
        children = [c for c in children if c.get_content_type() == "text/plain"][:1] or children
    for child in children:
        # A forwarded or returned message is not what this sender wrote.
        if child.get_content_type() != "message/rfc822":
            yield from _text_parts(child, defects, depth + 1)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("content-disposition", "")).split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_param("name"))


def _part_text(part: Message, defects: list[str]) -> str:
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte in ("base64", "quoted-printable"):
        payload = part.get_payload()
        if not isinstance(payload, str):
            return ""
        # The stdlib decodes a whole payload at once; cap the encoded text first (4 chars
        # of base64 carry 3 bytes, quoted-printable at most 3 chars per byte).
        if len(payload) > MAX_TEXT_CHARS * 3:
            defects.append("text part cut at 1 MB before decoding")
            payload = payload[: MAX_TEXT_CHARS * 3]
        data = _transfer_decode(payload.encode("ascii", "replace"), cte, defects)
    else:
        raw = part.get_payload(decode=True)  # 7bit/8bit: the bytes as sent, nothing to decode
        data = raw[: MAX_TEXT_CHARS * 4] if isinstance(raw, bytes) else b""
    return _charset_decode(data, part.get_content_charset() or "", defects)


def _transfer_decode(raw: bytes, cte: str, defects: list[str]) -> bytes:
    if cte == "base64":
        compact = re.sub(rb"[^A-Za-z0-9+/=]", b"", raw)
        if len(compact) % 4:
            defects.append("base64 body truncated")
            compact = compact.rstrip(b"=")
            compact = compact[: len(compact) - len(compact) % 4]
        try:
            return base64.b64decode(compact)
        except binascii.Error:
            defects.append("base64 body could not be decoded")
            return b""
    return quopri.decodestring(raw)


def _charset_decode(data: bytes, charset: str, defects: list[str]) -> str:
    charset = charset.strip().lower()
    known = _known_codec(charset)
    if known in _LATIN_CHARSETS or not charset:
        # Clients often label UTF-8 as Latin-1 or ASCII; valid UTF-8 with non-ASCII is UTF-8.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if not charset:
            return data.decode("cp1252", "replace")
    if known:
        try:
            return data.decode(known)
        except UnicodeDecodeError:
            defects.append(f"body is not valid {charset}")
    else:
        defects.append(f"unknown charset {charset[:40]!r}")
    best = charset_normalizer.from_bytes(data[:200_000]).best()
    if best is not None:
        return data.decode(best.encoding, "replace")
    return data.decode("utf-8", "replace")


def _known_codec(charset: str) -> str:
    if not charset:
        return ""
    try:
        name = codecs.lookup(charset).name
        # "charset=zlib" names a codec that is not text (the stdlib skips the check for b"").
        b"\x00".decode(name, "replace")
    except LookupError:
        return ""
    return name


def html_to_text(html: str, *, cut_quotes: bool = False) -> str:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    if cut_quotes:
        _cut_from_first_quote(soup)
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
    text = soup.get_text("").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _cut_from_first_quote(soup: BeautifulSoup) -> None:
    marker = soup.select_one(", ".join(_HTML_QUOTE_MARKERS))
    if marker is None:
        return
    node: Tag | None = marker
    while node is not None and node.name not in ("body", "[document]"):
        for sibling in list(node.next_siblings):
            sibling.extract()
        node = node.parent if isinstance(node.parent, Tag) else None
    marker.decompose()
