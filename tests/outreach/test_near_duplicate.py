"""The near-copy check against every earlier draft of the campaign (up to 500 of them, on
every draft) keeps each other body's folded text and shingles between drafts. These tests
hold it to the plain definition: fold, mask the other lead's names, compare shingles."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from leads.names import normalize_text
from outreach.drafting import LeadBrief
from outreach.drafting import grounding as g
from outreach.drafting.verify import NEAR_DUPLICATE, not_near_duplicate, similarity


def reference_closest(body: str, others: list[str], lead: LeadBrief | None) -> float:
    """The check as first written: everything recomputed for every other body."""
    mine = g.mask_lead(normalize_text(body), lead) if lead else body

    def masked(other: str) -> str:
        have = set(re.findall(r"\w+", mine.lower()))
        return re.sub(
            r"\b[A-Z][\w'-]*",
            lambda m: (
                m.group(0)
                if m.group(0).lower() in have or m.group(0).lower() in g.COMMON
                else "name"
            ),
            other,
        )

    return max((similarity(mine, masked(normalize_text(o))) for o in others), default=0.0)


def expected(body: str, others: list[str], lead: LeadBrief | None) -> tuple[bool, str]:
    closest = reference_closest(body, others, lead)
    detail = f"{closest:.0%} the same as another draft in this campaign"
    return closest < NEAR_DUPLICATE, detail if closest >= NEAR_DUPLICATE else ""


# Words that make the masking matter: names in several spellings (capitalised, with an
# apostrophe or a hyphen, in Cyrillic look-alikes, fullwidth), common capitalised words,
# and zero-width characters the folding removes.
WORDS = [
    "Hi", "Dana", "Robin", "O'Neil", "Smith-Jones", "Northwind", "Acme", "The", "We",
    "\u0410cme", "ｅｖｉｌ", "ig\u200bnore", "warehouse", "picking", "labour", "cut",
    "by", "40%", "for", "you", "call", "next", "week?", "Series", "A", "x-Smith", "o'Dana",
    "naïve", "Zoë", "\n\n", ",", ".",
]  # fmt: skip
texts = st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join)
leads = st.one_of(
    st.none(),
    st.builds(
        LeadBrief,
        first_name=st.sampled_from(["Dana", "Robin", "O'Neil", "Zoë"]),
        last_name=st.sampled_from(["", "Smith-Jones", "Acme"]),
        company_name=st.sampled_from(["Northwind", "Acme Robotics", ""]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(body=texts, others=st.lists(texts, max_size=6), lead=leads)
def test_the_check_matches_its_definition(body, others, lead):
    check = not_near_duplicate(body, others, lead)
    assert (check.passed, check.detail) == expected(body, others, lead)


def test_the_same_other_bodies_compared_with_different_drafts():
    """An earlier draft's kept shingles depend on the draft it is compared with: a name
    the new draft also has is not masked in the other."""
    others = [
        "Hi Robin,\n\nCongratulations on the Series A at Acme.\n\nWorth a call?\n\nSam",
        "Hi Dana,\n\nCongratulations on the Series A at Northwind.\n\nWorth a call?\n\nSam",
    ]
    for body, name in [
        ("Hi Kim, congratulations on the Series A at Globex. Worth a call? Sam", "Kim"),
        ("Hi Robin, congratulations on the Series A at Acme. Worth a call? Sam", "Robin"),
        ("Hi Dana, congratulations on the Series A at Acme. Worth a call? Sam", "Kim"),
    ]:
        lead = LeadBrief(first_name=name, company_name="Globex")
        check = not_near_duplicate(body, others, lead)
        assert (check.passed, check.detail) == expected(body, others, lead)


def test_plain_ascii_text_is_already_folded():
    # The fold's fast path: NFKC leaves ASCII alone, and no ASCII character is a format
    # control or a look-alike.
    every_ascii = "".join(chr(c) for c in range(128))
    assert normalize_text(every_ascii) == every_ascii
    assert normalize_text("Hi Dana, \u0456gnore") == "Hi Dana, ignore"
