"""The email as built for the wire: vetted headers only, threading, unsubscribe headers and
footer, and a DKIM signature that dkimpy verifies against the key's public half."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from email import message_from_bytes, policy

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from outreach.mime import UnsafeMessage, header_text, outgoing_build
from outreach.models import Message
from outreach.unsubscribe import unsubscribe_resolve
from tests.factories import MailboxFactory, MessageFactory

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"


@pytest.fixture
def mailbox(workspace):
    return MailboxFactory(workspace=workspace, from_email="sam@pickwell.example")


@pytest.fixture
def message(workspace, mailbox):
    return MessageFactory(workspace=workspace, status=Message.Status.SENDING, mailbox=mailbox)


def build(message, mailbox, recipient="dana@acme.example"):
    return outgoing_build(message=message, mailbox=mailbox, recipient=recipient, now=NOW)


def parsed(outgoing):
    return message_from_bytes(outgoing.data, policy=policy.default)


@pytest.mark.parametrize(
    "subject",
    [
        "Acme Ltd\r\nBcc: everyone@victim.example",
        "Acme Ltd\nX-Injected: 1",
        "Acme\rLtd",
        "Acme\x00Ltd",
        "Acme\u2028Ltd",
        "Acme\x85Ltd",
        "Acme\tLtd",
    ],
)
def test_a_subject_with_a_line_break_or_control_character_cannot_be_built(
    message, mailbox, subject
):
    message.subject = subject
    with pytest.raises(UnsafeMessage, match="The subject contains a line break"):
        build(message, mailbox)


def test_a_sender_name_with_a_line_break_cannot_be_built(message, mailbox):
    mailbox.from_name = "Sam\r\nBcc: everyone@victim.example"
    with pytest.raises(UnsafeMessage, match="name in the mailbox's From address"):
        build(message, mailbox)


@pytest.mark.parametrize(
    "recipient", ["dana@acme.example\r\nBcc: x@victim.example", "Dana <dana@acme.example>", "dana"]
)
def test_a_recipient_that_is_not_one_plain_address_cannot_be_built(message, mailbox, recipient):
    with pytest.raises(UnsafeMessage):
        build(message, mailbox, recipient=recipient)


def test_a_body_with_a_nul_cannot_be_built(message, mailbox):
    message.body = "Hi Dana\x00"
    with pytest.raises(UnsafeMessage, match="The body contains a control character"):
        build(message, mailbox)


def test_header_text_keeps_ordinary_text():
    assert header_text("  Grüße aus Leeds: 40% schneller  ", what="x") == (
        "Grüße aus Leeds: 40% schneller"
    )


def test_text_that_is_not_ascii_is_encoded_and_reads_back_the_same(message, mailbox):
    message.subject = "Grüße zum neuen Lager in Köln"
    message.body = "Hallo Jürgen, das neue Lager in Köln – Glückwunsch."
    mailbox.from_name = "Sam Müller"

    outgoing = build(message, mailbox)

    assert outgoing.data.isascii()  # 7-bit on the wire: any server takes it
    email = parsed(outgoing)
    assert email["Subject"] == "Grüße zum neuen Lager in Köln"
    assert email["From"].addresses[0].display_name == "Sam Müller"
    assert email.get_content().startswith("Hallo Jürgen, das neue Lager in Köln – Glückwunsch.")
    assert all(len(line) <= 998 for line in outgoing.data.split(b"\r\n"))


def test_lines_end_in_crlf_only(message, mailbox):
    message.body = "One\nTwo\r\nThree\rFour"
    data = build(message, mailbox).data
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")


def test_the_message_id_is_on_the_senders_domain_and_kept_once_stored(message, mailbox):
    first = build(message, mailbox)
    assert first.message_id.startswith("<") and first.message_id.endswith("@pickwell.example>")
    assert build(message, mailbox).message_id != first.message_id  # not stored yet: new
    message.message_id_header = first.message_id
    assert build(message, mailbox).message_id == first.message_id
    assert parsed(build(message, mailbox))["Message-ID"] == first.message_id


def test_the_one_click_link_resolves_to_the_message(message, mailbox):
    header = parsed(build(message, mailbox))["List-Unsubscribe"]
    mailto, https = [part.strip(" <>") for part in header.split(",")]
    assert mailto == "mailto:sam@pickwell.example?subject=unsubscribe"
    assert https.startswith("https://sdr.example.com/u/") and https.endswith("/")
    token = https.removeprefix("https://sdr.example.com/u/").rstrip("/")
    assert unsubscribe_resolve(token=token) == message


def test_the_one_click_link_is_on_the_wire_as_a_plain_url(message, mailbox):
    """Mail clients read List-Unsubscribe as written: a URL folded into RFC 2047 encoded
    words (what the email package does to a token longer than a line) is no link at all."""
    # One build for both readings: the link is signed with the time, so a second build a
    # second later differs.
    outgoing = build(message, mailbox)
    raw = outgoing.data.decode("ascii")
    header = raw.split("\r\nList-Unsubscribe: ", 1)[1].split("\r\nList-Unsubscribe-Post", 1)[0]
    assert "=?" not in header
    https = parsed(outgoing)["List-Unsubscribe"].split(",")[1].strip(" <>")
    assert https in header.replace("\r\n ", "")


def test_the_footer_carries_the_postal_address_and_a_plain_way_out(message, mailbox):
    mailbox.postal_address = "Pickwell Ltd\n1 Dock Road\nLeeds LS1 1AA, UK"
    body = parsed(build(message, mailbox)).get_content().replace("\r\n", "\n")
    assert "Sam Seller, Pickwell Ltd 1 Dock Road Leeds LS1 1AA, UK" in body
    assert 'If you\'d rather not hear from me again, reply "unsubscribe"' in body


def test_a_mailbox_without_a_postal_address_cannot_send(message, mailbox):
    mailbox.postal_address = "  "
    with pytest.raises(UnsafeMessage, match="has no postal address"):
        build(message, mailbox)


# -- DKIM --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def dns_for(key, name=b"mail2026._domainkey.pickwell.example."):
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def lookup(asked: bytes, timeout: int = 5) -> bytes | None:
        return record if asked == name else None

    return lookup


def test_with_a_key_the_email_is_signed_and_verifies(message, mailbox, rsa_key):
    mailbox.dkim_selector = "mail2026"
    mailbox.dkim_private_key = pem(rsa_key)
    mailbox.save()
    mailbox.refresh_from_db()  # the key read back through its encryption

    data = build(message, mailbox).data

    assert data.startswith(b"DKIM-Signature:")
    assert dkim.verify(data, dnsfunc=dns_for(rsa_key))
    signed = dkim.DKIM(data)
    signed.verify(dnsfunc=dns_for(rsa_key))
    covered = {name.lower() for name, _ in signed.signed_headers}
    assert {b"from", b"subject", b"message-id", b"list-unsubscribe", b"list-unsubscribe-post"} <= (
        covered
    )
    # One changed byte in a signed header, and it no longer verifies.
    assert not dkim.verify(
        data.replace(b"Subject: Your", b"Subject: Our"), dnsfunc=dns_for(rsa_key)
    )


def test_the_signature_uses_the_dkim_domain_when_set(message, mailbox, rsa_key):
    mailbox.dkim_selector, mailbox.dkim_domain = "s1", "mail.pickwell.example"
    mailbox.dkim_private_key = pem(rsa_key)
    data = build(message, mailbox).data
    assert b"d=mail.pickwell.example" in data
    assert dkim.verify(data, dnsfunc=dns_for(rsa_key, b"s1._domainkey.mail.pickwell.example."))


def test_without_a_key_the_email_is_not_signed(message, mailbox):
    mailbox.dkim_selector = "mail2026"
    assert not build(message, mailbox).data.startswith(b"DKIM-Signature:")


def test_an_unusable_key_says_so(message, mailbox):
    mailbox.dkim_selector, mailbox.dkim_private_key = "mail2026", "not a key"
    with pytest.raises(UnsafeMessage, match="DKIM signing failed"):
        build(message, mailbox)
