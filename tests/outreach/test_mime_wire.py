"""The message's bytes written directly (`wire_plain`) are exactly the email package's
(`wire_email_package`) whenever the direct path takes the message, and it takes the
plain ASCII messages most campaigns send. No database: these are pure functions."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.utils import format_datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from outreach.mime import wire_email_package, wire_plain

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
UNSUBSCRIBE = "https://sdr.example.com/u/AbC123-x_y/"
BODY = (
    "Hi Dana,\n\nSaw that Acme opened a warehouse in Leeds. Worth a 15-minute call?\n\n"
    "Sam\n\nSam Reyes, Pickwell Ltd, 1 Dock Road, Leeds LS1 1AA, UK\n"
    'If you\'d rather not hear from me again, reply "unsubscribe" or use this link:\n'
    f"{UNSUBSCRIBE}\n"
)


def headers(
    *,
    name: str = "Sam Reyes",
    sender: str = "sam@pickwell.example",
    recipient: str = "dana@acme.example",
    subject: str = "Your new Leeds warehouse",
    earlier: tuple[str, ...] = (),
    now: datetime = NOW,
) -> list[tuple[str, str | Address]]:
    local, _, domain = sender.rpartition("@")
    to_local, _, to_domain = recipient.rpartition("@")
    built: list[tuple[str, str | Address]] = [
        ("Date", format_datetime(now)),
        ("From", Address(display_name=name, username=local, domain=domain)),
        ("To", Address(display_name="", username=to_local, domain=to_domain)),
        ("Subject", subject),
        ("Message-ID", "<0f1e2d3c4b5a69788796a5b4c3d2e1f0@pickwell.example>"),
    ]
    if earlier:
        built += [("In-Reply-To", earlier[-1]), ("References", " ".join(earlier))]
    built += [
        ("List-Unsubscribe", f"<mailto:{sender}?subject=unsubscribe>, <{UNSUBSCRIBE}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
    return built


def same_or_deferred(message_headers, text) -> bytes | None:
    direct = wire_plain(message_headers, text)
    if direct is not None:
        assert direct == wire_email_package(message_headers, text)
    return direct


@pytest.mark.parametrize(
    "case",
    [
        {},
        {"earlier": ("<a1@pickwell.example>",)},
        {"earlier": tuple(f"<{i:032x}@pickwell.example>" for i in range(6))},
        {"name": ""},
        {"name": "O'Brien"},
        {"subject": "Re: Your new Leeds warehouse"},
        {"subject": "50% off? {Q4} #1 [draft] (maybe) - a/b"},
        {"now": datetime(2026, 7, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))},
        {"recipient": "dana.o'neil+sales@mail.acme.co.uk"},
    ],
)
def test_plain_messages_are_written_directly_and_byte_for_byte_as_the_package_would(case):
    assert same_or_deferred(headers(**case), BODY) is not None


@pytest.mark.parametrize(
    ("case", "text"),
    [
        ({"name": "Reyes, Sam"}, BODY),  # quoted by the package
        ({"name": "Dr. Sam Reyes"}, BODY),
        ({"name": 'Sam "the man" Reyes'}, BODY),
        ({"name": "José Núñez"}, BODY),  # an RFC 2047 encoded word
        ({"subject": "Your new Leeds warehouse, Zoë"}, BODY),
        ({"subject": "=?utf-8?q?hello?="}, BODY),  # read back as an encoded word
        ({"subject": "Two  spaces"}, BODY),
        ({"subject": "x" * 1000}, BODY),  # folded
        ({"recipient": "dana@bücher.example"}, BODY),
        ({}, BODY.replace("Hi Dana", "Hi Zoë")),  # quoted-printable
        ({}, BODY + "y" * 1000 + "\n"),  # a line past the limit
    ],
)
def test_anything_else_is_left_to_the_email_package(case, text):
    try:
        expected = wire_email_package(headers(**case), text)
    except ValueError:  # the package's own refusal stands: nothing to compare
        expected = None
    assert wire_plain(headers(**case), text) is None
    assert expected is None or expected.startswith(b"Date: ")


PRINTABLE = string.ascii_letters + string.digits + string.punctuation + " "


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(PRINTABLE, max_size=30),
    subject=st.text(PRINTABLE, min_size=1, max_size=120),
    body=st.text(PRINTABLE + "\n\t", max_size=400),
)
@example(name="Sam Reyes", subject="Re: hi", body="Hi\n")
def test_whatever_the_direct_path_takes_it_writes_as_the_package_does(name, subject, body):
    subject = subject.strip()
    assume(subject)
    try:
        message_headers = headers(name=name.strip(), subject=subject)
        wire_email_package(message_headers, body + "\n")
    except (ValueError, IndexError):  # names or subjects the package itself refuses
        assume(False)
    same_or_deferred(message_headers, body + "\n")
