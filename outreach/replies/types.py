"""The shapes the reply parser hands out; `parsing` re-exports them for ingest and handling."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


class UnparseableEmail(ValueError):
    """The bytes are not a message we can read; the reason says why, in plain words."""


@dataclass(frozen=True)
class Bounced:
    address: str
    permanent: bool
    status: str = ""  # the DSN status code, e.g. "5.1.1", when there is one
    diagnostic: str = ""


@dataclass
class ParsedEmail:
    message_id: str = ""  # without angle brackets
    in_reply_to: str = ""  # the first id, without angle brackets
    references: list[str] = field(default_factory=list)
    from_email: str = ""  # lower-cased, checked address, or "" when none is usable
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""  # decoded, CR/LF/NUL removed
    date: datetime.datetime | None = None  # aware
    text: str = ""  # the whole body as text (HTML-only bodies converted)
    visible_text: str = ""  # the new part, without quoted history or signature
    language: str = ""  # ISO 639-1 when known
    is_auto_reply: bool = False
    out_of_office_until: datetime.date | None = None
    is_bounce: bool = False
    bounced: list[Bounced] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)  # what was broken but read anyway


@dataclass(frozen=True)
class Classification:
    category: str  # one of outreach.models.Reply.Category values
    confidence: float  # 0..1
    reason: str = ""
    referral: dict[str, str] = field(default_factory=dict)  # {name, email, title}
