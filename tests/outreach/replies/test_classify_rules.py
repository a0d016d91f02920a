"""The rules classifier's precedence, stated on bare texts (the fixtures cover whole messages)."""

from __future__ import annotations

import pytest

from outreach.replies.parsing import Bounced, ParsedEmail, classify_rules

CATEGORIES = {
    "interested",
    "meeting_request",
    "question",
    "not_now",
    "not_interested",
    "wrong_person",
    "unsubscribe",
    "auto_reply",
    "bounce",
    "other",
}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Please remove me, I'm not interested.", "unsubscribe"),
        ("Not interested. Why would I be interested?", "not_interested"),
        ("Not right now, try again in Q3.", "not_now"),
        ("Can we talk Tuesday at 3?", "meeting_request"),
        ("Do you integrate with HubSpot?", "question"),
        ("Interested! When can we talk?", "interested"),
        ("Thanks!", "other"),
        ("Kein Interesse, danke.", "not_interested"),
        ("Pas pour le moment, recontactez-moi l'année prochaine.", "not_now"),
    ],
)
def test_phrases_are_checked_in_order_of_precedence(text: str, category: str) -> None:
    assert classify_rules(ParsedEmail(visible_text=text)).category == category


def test_bounce_and_auto_reply_are_decided_from_the_parse_first() -> None:
    bounce = ParsedEmail(
        visible_text="Please remove me", is_bounce=True, bounced=[Bounced("a@b.com", True)]
    )
    auto = ParsedEmail(visible_text="Can we talk Tuesday at 3?", is_auto_reply=True)
    assert classify_rules(bounce).category == "bounce"
    assert classify_rules(auto).category == "auto_reply"


def test_a_referral_names_the_person_their_address_and_title() -> None:
    parsed = ParsedEmail(
        from_email="me@acme.com",
        visible_text="Wrong person, please contact Jane Doe (jane@acme.com), our Head of Sales.",
    )
    found = classify_rules(parsed)
    assert found.category == "wrong_person"
    assert found.referral == {
        "name": "Jane Doe",
        "email": "jane@acme.com",
        "title": "Head of Sales",
    }


def test_every_answer_is_a_known_category_with_a_confidence_and_reason() -> None:
    for text in ("", "?", "ok", "Yes please, send info", "x" * 10_000):
        found = classify_rules(ParsedEmail(visible_text=text))
        assert found.category in CATEGORIES
        assert 0 <= found.confidence <= 1
        assert found.reason
