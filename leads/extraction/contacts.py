"""Contact emails and phone numbers, validated by well-kept libraries."""

from __future__ import annotations

import re
from urllib.parse import unquote

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leads.extraction.page import Page
from leads.extraction.text import clean, snippet
from leads.extraction.tree import outer_html
from leads.extraction.types import ExtractedValue, Found

_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
# "logo@2x.png" looks like an address; so do retina image and asset names.
_FILE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|svg|webp|avif|ico|css|js|json|map|woff2?)$", re.I)
# Runs of digits and phone punctuation, each then parsed and checked
# by phonenumbers; far cheaper than its PhoneNumberMatcher over all of the text.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\(\d)?\d[\d \t().\-/]{5,40}\d(?![\w-])")
MAX_EMAILS = 10
MAX_PHONES = 5
MAX_AT_SIGNS = 500  # "@" signs looked at; a page of them is not a contact page
# Numbers in running text are read on pages where companies list them (a press release
# is full of figures that parse as numbers); tel: links are read everywhere.
TEXT_PHONE_PAGES = {"home", "contact", "about", "other"}
# Numbers sit in headers, footers and contact blocks: the first 20,000 characters of text.
MAX_PHONE_TEXT = 20_000


def extract(page: Page) -> Found:
    return Found(values=_emails(page) + _phones(page))


def _emails(page: Page) -> list[ExtractedValue]:
    found: dict[str, tuple[str, float]] = {}
    for anchor in page.anchors:
        href = str(anchor.get("href")).strip()
        if href[:7].lower() == "mailto:":
            for raw in unquote(href[7:].split("?", 1)[0]).split(","):
                found.setdefault(raw, (clean(outer_html(anchor), 300), 0.8))
    for raw, evidence in _emails_in_text(page.text):
        found.setdefault(raw, (evidence, 0.65))
    values: dict[str, ExtractedValue] = {}
    for raw, (evidence, confidence) in found.items():
        email = valid_email(raw)
        if email and email not in values and len(values) < MAX_EMAILS:
            values[email] = ExtractedValue("email", email, evidence, confidence, "contacts")
    return list(values.values())


def _emails_in_text(text: str) -> list[tuple[str, str]]:
    """Addresses around each "@": running an email regex from every position of a long
    text is slow, and pages have few "@" signs."""
    found = []
    at = text.find("@")
    for _ in range(MAX_AT_SIGNS):
        if at == -1:
            break
        start = at
        while (
            start > 0
            and at - start < 64
            and (text[start - 1].isalnum() or text[start - 1] in "._+-")
        ):
            start -= 1
        match = _EMAIL.match(text, start, at + 256)
        if match:
            found.append((match.group(0).strip("."), snippet(text, match.start(), match.end())))
        at = text.find("@", match.end() if match else at + 1)
    return found


def valid_email(raw: str) -> str:
    """A syntactically valid address, normalized and lowercased; "" otherwise."""
    raw = raw.strip()
    if not raw or _FILE_SUFFIX.search(raw):
        return ""
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return ""


def _phones(page: Page) -> list[ExtractedValue]:
    region = page.phone_region
    out: dict[str, ExtractedValue] = {}
    for anchor in page.anchors:
        href = str(anchor.get("href")).strip()
        if href[:4].lower() == "tel:":
            number = e164(href[4:], region)
            if number:
                evidence = clean(outer_html(anchor), 300)
                out.setdefault(number, ExtractedValue("phone", number, evidence, 0.8, "contacts"))
    if page.kind not in TEXT_PHONE_PAGES:
        return list(out.values())[:MAX_PHONES]
    text = page.text[:MAX_PHONE_TEXT]
    for match in _PHONE_CANDIDATE.finditer(text):
        for number in _numbers_in(match.group(0), region):
            evidence = snippet(text, match.start(), match.end())
            out.setdefault(number, ExtractedValue("phone", number, evidence, 0.6, "contacts"))
        if len(out) >= MAX_PHONES:
            break
    return list(out.values())[:MAX_PHONES]


def _numbers_in(candidate: str, region: str) -> list[str]:
    number = e164(candidate, region)
    if number:
        return [number]
    # A run like "2026-10-14 (415) 555 0100" holds a number next to other figures:
    # phonenumbers' own matcher splits it, and on a snippet this short it is cheap.
    matcher = phonenumbers.PhoneNumberMatcher(
        candidate, region, leniency=phonenumbers.Leniency.VALID
    )
    return [
        phonenumbers.format_number(m.number, phonenumbers.PhoneNumberFormat.E164) for m in matcher
    ]


def e164(raw: str, region: str = "US") -> str:
    """A phone number in E.164 form ("+441134960123"), or "" when it is not a valid one."""
    digits = sum(c.isdigit() for c in raw)
    if not 7 <= digits <= 15:
        return ""
    try:
        number = phonenumbers.parse(unquote(raw).strip(), region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
