"""Hostile or broken messages are read safely, or refused with a reason in plain words."""

from __future__ import annotations

import time

import pytest

from outreach.replies.parsing import UnparseableEmail, classify_rules, parse_raw


def _message(headers: bytes, body: bytes = b"Sounds good, tell me more.\r\n") -> bytes:
    return (
        b"From: Jane <jane@acme.com>\r\nTo: bob@seller.io\r\n"
        b"Date: Tue, 1 Dec 2026 09:00:00 +0000\r\n"
        + headers
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
    )


def test_nul_bytes_never_reach_any_field() -> None:
    parsed = parse_raw(_message(b"Subject: Re: a\x00b\r\n", b"tell\x00 me more\r\n"))
    assert "\x00" not in parsed.subject + parsed.text + parsed.visible_text
    assert parsed.subject == "Re: ab"


def test_encoded_cr_lf_in_subject_and_name_cannot_inject_headers() -> None:
    raw = _message(b"Subject: =?utf-8?q?Re=3A_hi=0D=0ABcc=3A_victim=40example=2Ecom?=\r\n").replace(
        b"From: Jane", b"From: =?utf-8?q?Jane=0D=0AX-Evil=3A_1?="
    )
    parsed = parse_raw(raw)
    for value in (parsed.subject, parsed.from_name):
        assert "\r" not in value and "\n" not in value
    assert parsed.subject == "Re: hi Bcc: victim@example.com"
    assert parsed.from_email == "jane@acme.com"


def test_an_enormous_header_is_cut_and_read_quickly() -> None:
    start = time.monotonic()
    parsed = parse_raw(
        _message(b"Subject: " + b"x" * 500_000 + b"\r\nX-Junk: " + b"y " * 200_000 + b"\r\n")
    )
    assert time.monotonic() - start < 10
    assert len(parsed.subject) <= 998
    assert "tell me more" in parsed.visible_text


def test_a_look_alike_domain_is_kept_apart_from_the_real_one() -> None:
    raw = _message(b"Subject: hi\r\n").replace(b"jane@acme.com", "jane@аcme.com".encode())
    parsed = parse_raw(raw)
    assert parsed.from_email != "jane@acme.com"
    assert parsed.from_email.isascii()  # punycode: what SMTP and thread matching compare


def test_an_invalid_from_address_leaves_from_email_empty_and_says_so() -> None:
    parsed = parse_raw(_message(b"Subject: hi\r\n").replace(b"jane@acme.com", b"jane@@acme"))
    assert parsed.from_email == ""
    assert any("From" in defect for defect in parsed.defects)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n", "empty"),
        (b"just some words\nwith no headers at all\n", "no mail headers"),
    ],
)
def test_what_is_not_a_message_is_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnparseableEmail, match=reason):
        parse_raw(raw)


def test_attachments_are_never_decoded_into_the_text() -> None:
    attachment = b"QUJD" * 400_000  # base64, 1.6 MB
    raw = _message(b"Subject: hi\r\n").replace(
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n",
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n",
    ) + (
        b"\r\n--m\r\nContent-Type: text/plain; name=notes.txt\r\n"
        b"Content-Disposition: attachment; filename=notes.txt\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + attachment + b"\r\n--m--\r\n"
    )
    parsed = parse_raw(raw)
    assert "ABC" not in parsed.text
    assert classify_rules(parsed).category == "interested"


def test_a_huge_text_part_is_capped() -> None:
    parsed = parse_raw(_message(b"Subject: hi\r\n", b"Tell me more. " + b"a" * 5_000_000))
    assert len(parsed.text) <= 1_000_000
    assert any("1 MB" in defect for defect in parsed.defects)


@pytest.mark.parametrize("charset", [b"zlib_codec", b"base64", b"rot13", b"x-no-such-charset"])
def test_a_charset_that_names_no_text_encoding_is_read_as_text(charset: bytes) -> None:
    raw = _message(b"Subject: hi\r\n").replace(b"charset=utf-8", b"charset=" + charset)
    parsed = parse_raw(raw)
    assert "tell me more" in parsed.visible_text
    assert any("charset" in defect for defect in parsed.defects)
