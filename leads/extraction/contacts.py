"""Contact emails and phone numbers, validated by well-kept libraries."""

from __future__ import annotations

import re
from urllib.parse import unquote

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leads.extraction.page import Page, clean
from leads.extraction.types import ExtractedValue

_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FILE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|css|js)$", re.I)
MAX_EMAILS = 10
MAX_PHONES = 5


# Numbers in running text are read where companies list them; every page's tel: links are.
TEXT_PHONE_PAGES = {"home", "contact", "about"}


def extract_contacts(page: Page, page_kind: str) -> list[ExtractedValue]:
    return _emails(page) + _phones(page, scan_text=page_kind in TEXT_PHONE_PAGES)


def _emails(page: Page) -> list[ExtractedValue]:
    found: dict[str, str] = {}
    for anchor in page.anchors:
        if anchor["href"][:7].lower() == "mailto:":
            address = unquote(anchor["href"][7:].split("?", 1)[0])
            found.setdefault(address, str(anchor)[:300])
    for match in _EMAIL_IN_TEXT.finditer(page.visible_text):
        found.setdefault(match.group(0), _around(page.visible_text, match.start()))
    out = []
    for raw, evidence in found.items():
        email = _valid_email(raw)
        if email and len(out) < MAX_EMAILS:
            out.append(ExtractedValue("email", email, evidence, 0.7, "contacts"))
    return out


def _valid_email(raw: str) -> str:
    if _FILE_SUFFIX.search(raw):  # logo@2x.png and friends
        return ""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return ""


def _phones(page: Page, *, scan_text: bool) -> list[ExtractedValue]:
    region = _region(page.url)
    out: dict[str, ExtractedValue] = {}
    for anchor in (a for a in page.anchors if a["href"][:4].lower() == "tel:"):
        number = e164(anchor["href"][4:], region)
        if number:
            out.setdefault(
                number, ExtractedValue("phone", number, str(anchor)[:300], 0.8, "contacts")
            )
    if not scan_text:
        return list(out.values())
    # Matching numbers in text is costly; they sit in headers, footers and contact
    # blocks, so the first 20,000 characters are enough.
    text = page.visible_text[:20_000]
    for match in phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID
    ):
        number = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        out.setdefault(
            number, ExtractedValue("phone", number, _around(text, match.start), 0.6, "contacts")
        )
        if len(out) >= MAX_PHONES:
            break
    return list(out.values())


def e164(raw: str, region: str | None = "US") -> str:
    """A phone number in E.164 form, or "" when it is not a valid number."""
    try:
        number = phonenumbers.parse(unquote(raw), region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _region(url: str) -> str | None:
    from urllib.parse import urlsplit

    tld = (urlsplit(url).hostname or "").rsplit(".", 1)[-1].upper()
    if tld == "UK":
        return "GB"
    return tld if len(tld) == 2 and tld in phonenumbers.SUPPORTED_REGIONS else "US"


def _around(text: str, index: int, width: int = 120) -> str:
    return clean(text[max(0, index - width) : index + width])
