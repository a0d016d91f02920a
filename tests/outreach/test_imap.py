"""Polling a mailbox over IMAP, against a real server (a private Dovecot, tests/imap_server.py):
each message stored once, never marked as read, a UIDVALIDITY change read again without
duplicates, oversized messages recorded rather than crashing, and every failure written
on the mailbox in plain words instead of raised out of the beat task."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from outreach import mailboxes
from outreach.models import InboundEmail, Mailbox
from outreach.replies import imap
from outreach.replies.imap import mailbox_poll, mailboxes_poll
from outreach.tasks import poll_imap_task
from sdr import netguard
from tests.factories import MailboxFactory
from tests.imap_server import (  # noqa: F401  (fixtures)
    PASSWORD,
    USER,
    imap_server,
    imap_server_starttls,
    imap_server_tls,
)

TLS_NAME = "imap.pickwell.example"


def message(n: int, *, body: str = "") -> bytes:
    return (
        f"From: Dana Lee <dana@acme.example>\r\n"
        f"To: sam@pickwell.example\r\n"
        f"Subject: Re: Your new Leeds warehouse ({n})\r\n"
        f"Message-ID: <reply-{n}@acme.example>\r\n"
        f"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\n\r\n"
        f"Reply number {n}.\r\n{body}"
    ).encode()


def on_server(workspace, imap_server, *, from_email: str, password: str) -> Mailbox:  # noqa: F811
    """A mailbox of the workspace that polls the test server as USER."""
    return MailboxFactory(
        workspace=workspace,
        from_email=from_email,
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security=Mailbox.Security.NONE,
        imap_username=USER,
        imap_password=password,
    )


@pytest.fixture
def mailbox(workspace, imap_server):  # noqa: F811
    return on_server(workspace, imap_server, from_email="sam@pickwell.example", password=PASSWORD)


def stored(mailbox: Mailbox) -> list[InboundEmail]:
    return list(
        InboundEmail.objects.for_workspace(mailbox.workspace)
        .filter(mailbox=mailbox)
        .order_by("imap_uidvalidity", "imap_uid")
    )


@pytest.fixture
def wrong(workspace, imap_server):  # noqa: F811
    """A second mailbox of the workspace on the same server, with a wrong password."""
    return on_server(
        workspace, imap_server, from_email="ops@pickwell.example", password="not-the-password"
    )


def test_the_first_poll_reads_everything_and_the_next_only_what_is_new(mailbox, imap_server):  # noqa: F811
    for n in (1, 2, 3):
        imap_server.deliver(message(n))

    first = mailbox_poll(mailbox_id=mailbox.pk)
    again = mailbox_poll(mailbox_id=mailbox.pk)
    imap_server.deliver(message(4))
    later = mailbox_poll(mailbox_id=mailbox.pk)

    assert (first.stored, again.stored, later.stored) == (3, 0, 1)
    assert not (first.error or again.error or later.error)
    rows = stored(mailbox)
    assert [row.imap_uid for row in rows] == [1, 2, 3, 4]
    assert all(row.source == InboundEmail.Source.IMAP for row in rows)
    assert all(row.status == InboundEmail.Status.RECEIVED for row in rows)
    assert bytes(rows[0].raw).replace(b"\r\n", b"\n") == message(1).replace(b"\r\n", b"\n")
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 4 and mailbox.imap_uidvalidity == rows[0].imap_uidvalidity
    assert mailbox.imap_polled_at is not None and mailbox.imap_last_error == ""


def test_the_first_read_skips_mail_from_long_before_the_mailbox_was_added(
    mailbox,
    imap_server,  # noqa: F811
):
    imap_server.deliver(message(1), when=datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
    imap_server.deliver(message(2))

    result = mailbox_poll(mailbox_id=mailbox.pk)

    assert result.stored == 1 and [row.imap_uid for row in stored(mailbox)] == [2]
    imap_server.deliver(message(3), when=datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
    # From then on every new UID is read, whatever date it carries.
    assert mailbox_poll(mailbox_id=mailbox.pk).stored == 1


def test_polling_never_marks_a_message_as_read(mailbox, imap_server):  # noqa: F811
    imap_server.deliver(message(1))
    mailbox_poll(mailbox_id=mailbox.pk)
    assert imap_server.uids() == [1] and imap_server.seen() == []


def test_a_new_uidvalidity_reads_the_folder_again_without_storing_twice(
    mailbox,
    imap_server,  # noqa: F811
):
    mailbox.imap_folder = "Replies"
    mailbox.save()
    old = [message(1), message(2)]
    for raw in old:
        imap_server.deliver(raw, folder="Replies")
    assert mailbox_poll(mailbox_id=mailbox.pk).stored == 2
    mailbox.refresh_from_db()
    validity_before = mailbox.imap_uidvalidity

    imap_server.recreate("Replies")  # the same messages come back under new UIDs
    for raw in [*old, message(3)]:
        imap_server.deliver(raw, folder="Replies")
    result = mailbox_poll(mailbox_id=mailbox.pk)

    assert (result.stored, result.duplicates) == (1, 2)
    assert len(stored(mailbox)) == 3
    mailbox.refresh_from_db()
    assert mailbox.imap_uidvalidity != validity_before and mailbox.imap_last_uid == 3


def test_large_folders_are_read_in_batches(mailbox, imap_server, settings):  # noqa: F811
    settings.IMAP_BATCH = 2
    for n in range(1, 6):
        imap_server.deliver(message(n))
    assert mailbox_poll(mailbox_id=mailbox.pk).stored == 5
    mailbox.refresh_from_db()
    assert mailbox.imap_last_uid == 5


def test_an_oversized_message_is_recorded_by_its_headers_not_downloaded(
    mailbox,
    imap_server,  # noqa: F811
    settings,
):
    settings.INBOUND_MAX_BYTES = 4000
    imap_server.deliver(message(1))
    imap_server.deliver(message(2, body="x" * 10_000))
    imap_server.deliver(message(3))

    result = mailbox_poll(mailbox_id=mailbox.pk)

    assert (result.stored, result.oversized, result.error) == (3, 1, "")
    big = stored(mailbox)[1]
    assert big.status == InboundEmail.Status.UNPARSEABLE and "over the limit" in big.error
    assert big.size > 10_000 and b"Reply number" not in bytes(big.raw)
    assert b"Subject: Re: Your new Leeds warehouse (2)" in bytes(big.raw)
    assert [row.status for row in stored(mailbox)].count(InboundEmail.Status.RECEIVED) == 2


def test_a_wrong_password_is_written_on_the_mailbox_and_others_are_still_read(
    mailbox,
    wrong,
    imap_server,  # noqa: F811
):
    imap_server.deliver(message(1))

    results = {result.mailbox_id: result for result in mailboxes_poll()}

    wrong.refresh_from_db()
    assert wrong.imap_last_error == "127.0.0.1 refused the username or password."
    assert "not-the-password" not in wrong.imap_last_error
    assert results[wrong.pk].error and results[mailbox.pk].stored == 1


def test_a_refused_sign_in_is_retried_hourly_not_every_minute_and_the_owners_told_once(
    workspace,
    member,
    mailoutbox,
    wrong,
    imap_server,  # noqa: F811
):
    # Providers lock an account after repeated failed sign-ins: polling a wrong password
    # every minute would lock the customer out of their own mailbox.
    first = {result.mailbox_id for result in mailboxes_poll()}
    a_minute_later = {result.mailbox_id for result in mailboxes_poll()}
    Mailbox.unscoped_objects.filter(pk=wrong.pk).update(
        imap_polled_at=timezone.now() - timedelta(hours=1, seconds=1)
    )
    an_hour_later = {result.mailbox_id for result in mailboxes_poll()}

    assert wrong.pk in first and wrong.pk not in a_minute_later and wrong.pk in an_hour_later
    [told] = mailoutbox  # once, though the sign-in was refused twice
    assert told.to == [member.email] and "ops@pickwell.example" in told.subject
    assert "not-the-password" not in told.body

    # Fixed: read at the next poll, without waiting for the hour.
    mailboxes.mailbox_update(mailbox=wrong, imap_password=PASSWORD)
    imap_server.deliver(message(1))
    [fixed] = [r for r in mailboxes_poll() if r.mailbox_id == wrong.pk]
    assert not fixed.error and fixed.stored == 1
    assert Mailbox.unscoped_objects.get(pk=wrong.pk).imap_last_error == ""


def test_a_server_that_is_down_is_an_error_on_the_mailbox_not_a_crash(mailbox):
    with socket_closed() as port:
        mailbox.imap_port = port
        mailbox.save()
        poll_imap_task()  # the beat task: nothing raised
    mailbox.refresh_from_db()
    assert mailbox.imap_last_error == f"127.0.0.1 refused the connection on port {port}."


def test_a_missing_folder_is_named(mailbox, imap_server):  # noqa: F811
    mailbox.imap_folder = "Nope"
    mailbox.save()
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert result.error == "The folder 'Nope' does not exist on 127.0.0.1; check the folder name."


def test_a_mailbox_already_being_polled_is_left_to_that_worker(mailbox, imap_server):  # noqa: F811
    imap_server.deliver(message(1))
    params = connection.get_connection_params()
    other = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("host", "port", "user", "password", "dbname")},
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [f"imap-poll:{mailbox.pk}"])
        assert mailbox_poll(mailbox_id=mailbox.pk).skipped
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [f"imap-poll:{mailbox.pk}"])
    finally:
        other.close()
    assert mailbox_poll(mailbox_id=mailbox.pk).stored == 1


def test_the_poll_runs_every_minute_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["ingest.poll_imap"]
    assert entry["task"] == poll_imap_task.name == "ingest.poll_imap"
    assert entry["schedule"] == 60


# --- TLS and the connection test ------------------------------------------------------------


@pytest.fixture
def tls_mailbox(workspace, imap_server_tls, monkeypatch):  # noqa: F811
    # The mailbox names a host; our resolver sends it to the loopback server, whose
    # certificate (from a throwaway CA the client is told to trust) is for "localhost".
    monkeypatch.setattr(
        netguard, "system_resolver", lambda host, port: ["127.0.0.1"] if host == TLS_NAME else []
    )
    return MailboxFactory(
        workspace=workspace,
        from_email="sam@pickwell.example",
        imap_host=TLS_NAME,
        imap_port=imap_server_tls.port,
        imap_security=Mailbox.Security.TLS,
        imap_username=USER,
        imap_password=PASSWORD,
    )


def trust(monkeypatch, server) -> None:
    context = ssl.create_default_context(cafile=str(server.certificates.ca))
    monkeypatch.setattr(imap, "_tls_context", lambda: context)


def test_tls_checks_the_certificate_against_the_host_name(
    tls_mailbox,
    imap_server_tls,  # noqa: F811
    monkeypatch,
):
    trust(monkeypatch, imap_server_tls)
    imap_server_tls.deliver(message(1))

    result = mailbox_poll(mailbox_id=tls_mailbox.pk)

    # The certificate is for "localhost", the mailbox says imap.pickwell.example: refused,
    # although the address dialled is the right one.
    assert result.stored == 0
    assert result.error.startswith(f"TLS with {TLS_NAME} failed")
    assert "hostname" in result.error.lower() or "CERTIFICATE_VERIFY_FAILED" in result.error


def test_tls_with_a_trusted_certificate_for_the_name_reads_the_folder(
    workspace,
    imap_server_tls,  # noqa: F811
    monkeypatch,
):
    trust(monkeypatch, imap_server_tls)
    monkeypatch.setattr(
        netguard, "system_resolver", lambda host, port: ["127.0.0.1"] if host == "localhost" else []
    )
    mailbox = MailboxFactory(
        workspace=workspace,
        imap_host="localhost",
        imap_port=imap_server_tls.port,
        imap_security=Mailbox.Security.TLS,
        imap_username=USER,
        imap_password=PASSWORD,
    )
    imap_server_tls.deliver(message(1))
    assert mailbox_poll(mailbox_id=mailbox.pk).stored == 1


@pytest.mark.parametrize(("name", "works"), [("localhost", True), (TLS_NAME, False)])
def test_starttls_upgrades_before_signing_in_and_checks_the_name(
    workspace,
    imap_server_starttls,  # noqa: F811
    monkeypatch,
    name,
    works,
):
    trust(monkeypatch, imap_server_starttls)
    monkeypatch.setattr(netguard, "system_resolver", lambda host, port: ["127.0.0.1"])
    mailbox = MailboxFactory(
        workspace=workspace,
        imap_host=name,
        imap_port=imap_server_starttls.port,
        imap_security=Mailbox.Security.STARTTLS,
        imap_username=USER,
        imap_password=PASSWORD,
    )
    imap_server_starttls.deliver(message(1))

    result = mailbox_poll(mailbox_id=mailbox.pk)

    if works:
        assert (result.stored, result.error) == (1, "")
    else:
        assert result.stored == 0 and result.error.startswith(f"TLS with {TLS_NAME} failed")


def test_an_untrusted_certificate_is_refused(tls_mailbox):
    result = mailbox_poll(mailbox_id=tls_mailbox.pk)
    assert result.error.startswith(f"TLS with {TLS_NAME} failed")
    assert "CERTIFICATE_VERIFY_FAILED" in result.error


def test_test_connection_signs_in_to_the_imap_server(mailbox, smtp_server):
    mailbox.smtp_port = smtp_server.port
    mailbox.save()
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert result.ok and result.imap == "OK: connected and signed in."

    mailbox.imap_password = "wrong"
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert not result.ok and result.imap == "127.0.0.1 refused the username or password."


def test_a_private_imap_host_is_refused_before_any_connection(mailbox, settings):
    settings.MAILBOX_ALLOWED_NETWORKS = []
    result = mailbox_poll(mailbox_id=mailbox.pk)
    assert "not a public address" in result.error


class socket_closed:
    """A loopback port nobody listens on."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


def test_the_mailbox_list_and_the_api_say_whether_replies_are_read(web, api, workspace):
    MailboxFactory(workspace=workspace, from_email="plain@pickwell.example")
    MailboxFactory(
        workspace=workspace,
        from_email="broken@pickwell.example",
        imap_host="imap.pickwell.example",
        imap_last_error="imap.pickwell.example refused the username or password.",
        imap_polled_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
    )
    MailboxFactory(
        workspace=workspace,
        from_email="fine@pickwell.example",
        imap_host="imap.pickwell.example",
        imap_polled_at=datetime(2026, 12, 7, 9, 1, tzinfo=UTC),
    )

    page = web.get("/mailboxes/").content.decode()
    listed = {m["from_email"]: m for m in api.get("/api/v1/mailboxes/").json()["results"]}

    def row(name: str) -> str:
        start = page.index(f"{name}@pickwell.example")
        return page[start : page.index("</tr>", start)]

    rows = {name: row(name) for name in ("plain", "broken", "fine")}
    assert "Not read here" in rows["plain"]
    assert "Not read: imap.pickwell.example refused the username or password." in rows["broken"]
    assert "Read over IMAP" in rows["fine"] and "2026-12-07 09:01" in rows["fine"]
    assert listed["broken@pickwell.example"]["imap_last_error"].endswith("password.")
    assert listed["fine@pickwell.example"]["imap_polled_at"].startswith("2026-12-07T09:01")
