"""The signed inbound-email webhook: raw MIME in, stored once, and a clear JSON error for
every request it refuses (unsigned, tampered, stale, too big, unknown workspace)."""

from __future__ import annotations

import hashlib
import hmac
import io
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from outreach.models import InboundEmail, Reply
from outreach.replies.webhook import signature_make
from sdr.models import Activity, Workspace

SECRET = "whsec-test-0123456789"
RAW = (
    b"From: Dana Lee <dana@acme.example>\r\nTo: sam@pickwell.example\r\n"
    b"Subject: Re: Your new Leeds warehouse\r\nMessage-ID: <w1@acme.example>\r\n"
    b"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\nTuesday works.\r\n"
)
URL = "/inbound/email/acme/"


@pytest.fixture
def webhook_on(workspace):
    workspace.inbound_webhook_secret = SECRET
    workspace.save()
    return workspace


def post(client, body: bytes = RAW, *, secret: str = SECRET, timestamp: str | None = None, **kw):
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {
        "X-SDR-Timestamp": timestamp,
        "X-SDR-Signature": signature_make(secret=secret, timestamp=timestamp, body=body),
        **kw.pop("headers", {}),
    }
    headers = {name: value for name, value in headers.items() if value is not None}
    return client.post(
        kw.pop("url", URL),
        data=body,
        content_type=kw.pop("content_type", "message/rfc822"),
        headers=headers,
    )


def error_code(response) -> str:
    return response.json()["error"]["code"]


def stored(workspace) -> list[InboundEmail]:
    return list(InboundEmail.objects.for_workspace(workspace))


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1764579600." + RAW, hashlib.sha256).hexdigest()
    assert signature_make(secret=SECRET, timestamp="1764579600", body=RAW) == f"v1={expected}"


def test_a_signed_message_is_stored_raw_and_accepted(client, webhook_on):
    response = post(client)

    assert response.status_code == 202
    inbound = InboundEmail.objects.for_workspace(webhook_on).get()
    assert response.json() == {"id": str(inbound.pk), "status": "received", "duplicate": False}
    assert bytes(inbound.raw) == RAW and inbound.source == InboundEmail.Source.WEBHOOK


def test_the_same_message_posted_again_answers_with_the_same_id(client, webhook_on):
    first = post(client).json()
    again = post(client)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert len(stored(webhook_on)) == 1


def test_octet_stream_is_taken_too_and_other_types_are_refused(client, webhook_on):
    assert post(client, content_type="application/octet-stream").status_code == 202
    response = post(client, body=RAW + b"x", content_type="application/json")
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-SDR-Signature": None}, "missing_header"),
        ({"X-SDR-Timestamp": None}, "missing_header"),
        ({"X-SDR-Timestamp": "yesterday"}, "bad_timestamp"),
        ({"X-SDR-Signature": "sha256=abc"}, "missing_header"),
    ],
)
def test_missing_or_malformed_headers_are_a_400(client, webhook_on, headers, code):
    response = post(client, headers=headers)
    assert response.status_code == 400 and error_code(response) == code
    assert stored(webhook_on) == []


def test_a_tampered_body_is_refused(client, webhook_on):
    timestamp = str(int(time.time()))
    signature = signature_make(secret=SECRET, timestamp=timestamp, body=RAW)
    response = client.post(
        URL,
        data=RAW.replace(b"Tuesday", b"Friday"),
        content_type="message/rfc822",
        headers={"X-SDR-Timestamp": timestamp, "X-SDR-Signature": signature},
    )
    assert response.status_code == 401 and error_code(response) == "bad_signature"
    assert stored(webhook_on) == []


def test_another_secret_is_refused(client, webhook_on):
    response = post(client, secret="not-the-secret")
    assert response.status_code == 401 and error_code(response) == "bad_signature"


def test_a_sender_rolling_over_may_send_two_signatures(client, webhook_on):
    timestamp = str(int(time.time()))
    old = signature_make(secret="old-secret", timestamp=timestamp, body=RAW)
    new = signature_make(secret=SECRET, timestamp=timestamp, body=RAW)
    response = post(
        client, headers={"X-SDR-Timestamp": timestamp, "X-SDR-Signature": f"{old},{new}"}
    )
    assert response.status_code == 202


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_stale_or_future_timestamp_is_refused(client, webhook_on, skew):
    response = post(client, timestamp=str(int(time.time()) + skew))
    assert response.status_code == 401 and error_code(response) == "stale_timestamp"
    assert stored(webhook_on) == []


def test_a_message_over_the_limit_is_a_413_and_not_stored(client, webhook_on, settings):
    settings.INBOUND_MAX_BYTES = 2000
    response = post(client, body=RAW + b"x" * 5000)
    assert response.status_code == 413 and error_code(response) == "too_large"
    assert stored(webhook_on) == []


def test_a_message_bigger_than_django_s_upload_limit_is_still_read(client, webhook_on, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # request.body would refuse it
    body = RAW + b"y" * 5000
    assert post(client, body=body).status_code == 202
    assert bytes(stored(webhook_on)[0].raw) == body


def test_an_unknown_workspace_or_one_without_a_secret_is_a_404(client, workspace, webhook_on):
    unknown = post(client, url="/inbound/email/nobody/")
    assert unknown.status_code == 404 and error_code(unknown) == "not_found"
    Workspace.objects.filter(pk=workspace.pk).update(inbound_webhook_secret="")
    off = post(client, secret="")
    assert off.status_code == 404 and off.json() == unknown.json()


def test_only_post_is_served(client, webhook_on):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db(transaction=True)
def test_an_accepted_message_is_read_after_the_commit(client, monkeypatch):
    # Eager tasks (no broker): the hint sent after the commit reads the message at once.
    handled = []
    monkeypatch.setattr(
        "outreach.replies.handling.reply_handle", lambda reply, parsed: handled.append(reply)
    )
    Workspace.objects.create(name="Acme", slug="acme", inbound_webhook_secret=SECRET)

    response = post(client)

    inbound = InboundEmail.unscoped_objects.get(pk=response.json()["id"])
    assert inbound.status == InboundEmail.Status.UNMATCHED  # nobody we wrote to
    assert Reply.unscoped_objects.get(inbound=inbound).from_email == "dana@acme.example"
    assert len(handled) == 1


# --- the secret ----------------------------------------------------------------------------


def test_inbound_secret_is_printed_once_and_rotated_on_request(client, workspace):
    out = io.StringIO()
    call_command("inbound_secret", workspace="acme", stdout=out)
    secret = out.getvalue().split("Secret: ")[1].split()[0]
    assert "/inbound/email/acme/" in out.getvalue()
    assert post(client, secret=secret).status_code == 202

    with pytest.raises(CommandError, match="--rotate"):
        call_command("inbound_secret", workspace="acme", stdout=io.StringIO())

    out = io.StringIO()
    call_command("inbound_secret", workspace="acme", rotate=True, stdout=out)
    rotated = out.getvalue().split("Secret: ")[1].split()[0]
    assert rotated != secret
    assert post(client, body=RAW + b"2", secret=secret).status_code == 401
    assert post(client, body=RAW + b"3", secret=rotated).status_code == 202

    call_command("inbound_secret", workspace="acme", disable=True, stdout=io.StringIO())
    assert post(client, body=RAW + b"4", secret=rotated).status_code == 404
    payloads = Activity.objects.for_workspace(workspace).filter(
        type__startswith="workspace.inbound_secret"
    )
    assert payloads.count() == 3
    assert all(secret not in str(a.payload) and rotated not in str(a.payload) for a in payloads)
