"""The out-of-office return date: after the message, the next occurrence when no year is given."""

from __future__ import annotations

import datetime

import pytest

from outreach.replies.autoreply import return_date

SENT = datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I will be back on\nMonday 14 December.", "en", "2026-12-14"),  # hard-wrapped
        ("I'm out until January 4th.", "en", "2027-01-04"),  # no year: the next January
        ("I return on 31/12.", "en", "2026-12-31"),  # day first
        ("Bis 3.1. bin ich nicht erreichbar.", "de", "2027-01-03"),
        ("Ab dem 7. Januar 2027 bin ich wieder da.", "de", "2027-01-07"),
        ("Je suis absent jusqu'au 4 janvier inclus.", "fr", "2027-01-04"),
        ("Estaré de vuelta el 7 de enero.", "es", "2027-01-07"),
        ("Rientro in ufficio l'8 gennaio.", "it", "2027-01-08"),
        ("Back 2026-11-20.", "en", None),  # before the message: not a return date
        ("I am on holiday with limited access to email.", "en", None),
        ("Back in 2035-01-01, promise.", "en", None),  # beyond a year: a typo, not a plan
    ],
)
def test_return_date_is_read_in_many_languages(text: str, language: str, expected: str) -> None:
    found = return_date(text, sent=SENT, language=language)
    assert (found.isoformat() if found else None) == expected
