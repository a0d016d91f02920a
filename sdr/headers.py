"""The one function every header value we write goes through: email headers (Subject, the
From name, To, Message-ID, In-Reply-To, References, List-Unsubscribe) and HTTP headers
built from data (a download's file name).

A header ends at a line break, so a value with CR or LF (a scraped company name in a
subject, a reply's References) would add headers of its own: a Bcc to anyone, say. NUL
and other control characters are refused too (mail software truncates or rewrites at
them), and the Unicode line and paragraph separators, which some mail software breaks
lines on. The email package and Django refuse some of these themselves, each in its own
words and only some; this refuses all of them, once, with words a person can act on.
"""

from __future__ import annotations

import unicodedata

# Cc: C0 and C1 controls, CR, LF, NUL and tab among them. Zl, Zp: U+2028, U+2029.
_REFUSED_CATEGORIES = {"Cc", "Zl", "Zp"}


class UnsafeHeader(ValueError):
    """A value that cannot go into a header; the message says which and why."""


def header_problem(value: str, *, what: str) -> str:
    """Why `value` cannot be a header value, or "" if it can."""
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return (
                f"{what} contains a line break or control character ({char!r}); it cannot go "
                "into an email or HTTP header."
            )
    return ""


def header_value(value: str, *, what: str) -> str:
    """`value`, trimmed, for a header; UnsafeHeader if it holds a line break, a NUL or
    another control character. `what` names it in the error ("The subject")."""
    problem = header_problem(value, what=what)
    if problem:
        raise UnsafeHeader(problem)
    return value.strip()


def content_disposition(filename: str) -> str:
    """An attachment Content-Disposition for `filename`, vetted like any header value."""
    name = header_value(filename, what="The file name")
    if '"' in name or "\\" in name:
        raise UnsafeHeader(f"The file name {name!r} cannot be quoted in a header.")
    return f'attachment; filename="{name}"'
