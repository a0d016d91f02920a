"""Text helpers every extractor shares: whitespace, evidence snippets, dates."""

from __future__ import annotations

import datetime
import re

_SPACE = re.compile(r"\s+")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
# ISO first: a <time datetime> or JSON-LD date is the most reliable; then the two ways
# English press releases write a date ("October 14, 2026", "14 October 2026").
_YEAR = re.compile(r"(?:19|20)\d\d")
_DATES = (
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<number>\d\d)-(?P<day>\d\d)"),
    re.compile(
        rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.I
    ),
    re.compile(
        rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>(?:19|20)\d\d)\b", re.I
    ),
)


def clean(text: str | None, limit: int = 300) -> str:
    """Whitespace collapsed and cut to `limit` characters."""
    # Cutting first keeps this cheap on a whole page's text; ten characters of markup
    # whitespace per kept character is more than real pages have.
    return _SPACE.sub(" ", (text or "")[: limit * 10]).strip()[:limit]


def snippet(text: str, start: int, end: int, width: int = 120) -> str:
    """The evidence for a match: the match with up to `width` characters either side."""
    return clean(text[max(0, start - width) : end + width])


def find_date(text: str) -> datetime.date | None:
    """The first plausible calendar date written in `text`, or None."""
    if not _YEAR.search(text):
        return None  # the common case, and one cheap search instead of three
    for pattern in _DATES:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            month = (
                int(parts["number"]) if parts.get("number") else _MONTHS[parts["month"][:3].lower()]
            )
            try:
                return datetime.date(int(parts["year"]), month, int(parts["day"]))
            except ValueError:
                continue  # "2026-13-45": not a date, try the next one
    return None
