"""Mailboxes: the API contract, the rules, "Test connection" against real servers on
loopback, passwords that never come back out, and the campaign's sending settings."""

from __future__ import annotations

import json
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from outreach import mailboxes
from outreach.models import Campaign, Mailbox
from sdr.models import Activity
from tests.factories import CampaignFactory, MailboxFactory

SECRET = "hunter2-Sm7p-passw0rd"
MAILBOX = {
    "from_email": "Sam@Pickwell.example",
    "from_name": "Sam Seller",
    "smtp_host": "127.0.0.1",
    "smtp_port": 2525,
    "smtp_security": "none",
    "smtp_username": "sam",
    "smtp_password": SECRET,
    "daily_cap": 40,
    "min_interval_seconds": 90,
}


def error_of(response) -> dict:
    return response.json()["error"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stored(mailbox_id) -> Mailbox:
    return Mailbox.unscoped_objects.get(pk=mailbox_id)


# --- the API contract --------------------------------------------------------------------


def test_a_mailbox_is_created_with_its_id_and_never_its_password(api, workspace):
    response = api.post("/api/v1/mailboxes/", MAILBOX, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"]
    assert body["from_email"] == "sam@pickwell.example"  # normalized
    assert body["smtp_security"] == "none" and body["daily_cap"] == 40
    assert body["min_interval_seconds"] == 90
    assert body["has_smtp_password"] is True and body["has_imap_password"] is False
    assert body["warmup_enabled"] is False  # off unless asked for
    assert "smtp_password" not in body and SECRET not in response.content.decode()
    mailbox = stored(body["id"])
    assert mailbox.workspace == workspace and mailbox.smtp_password == SECRET


def test_mailboxes_are_listed_read_and_edited_keeping_the_password(api, workspace):
    mailbox_id = api.post("/api/v1/mailboxes/", MAILBOX, format="json").json()["id"]

    listed = api.get("/api/v1/mailboxes/").json()
    assert [m["id"] for m in listed["results"]] == [mailbox_id]
    assert api.get(f"/api/v1/mailboxes/{mailbox_id}/").json()["from_name"] == "Sam Seller"
    response = api.patch(
        f"/api/v1/mailboxes/{mailbox_id}/",
        {"daily_cap": 25, "timezone": "Europe/Berlin", "warmup_enabled": True},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["daily_cap"] == 25 and response.json()["has_smtp_password"]
    mailbox = stored(mailbox_id)
    assert mailbox.smtp_password == SECRET  # not mentioned: kept
    assert mailbox.timezone == "Europe/Berlin"
    assert mailbox.warmup_enabled and mailbox.warmup_started_on is not None


def test_a_new_password_replaces_the_old_one(api):
    mailbox_id = api.post("/api/v1/mailboxes/", MAILBOX, format="json").json()["id"]
    api.patch(f"/api/v1/mailboxes/{mailbox_id}/", {"smtp_password": "n3w"}, format="json")
    assert stored(mailbox_id).smtp_password == "n3w"


def test_another_workspaces_mailbox_is_not_found(api, neighbour):
    other = MailboxFactory(workspace=neighbour.workspace)
    assert api.get(f"/api/v1/mailboxes/{other.pk}/").status_code == 404
    assert api.patch(f"/api/v1/mailboxes/{other.pk}/", {}, format="json").status_code == 404
    assert api.post(f"/api/v1/mailboxes/{other.pk}/test/").status_code == 404


def test_the_same_address_twice_is_a_conflict(api):
    assert api.post("/api/v1/mailboxes/", MAILBOX, format="json").status_code == 201
    again = {**MAILBOX, "from_email": "sam@pickwell.example"}
    response = api.post("/api/v1/mailboxes/", again, format="json")
    assert response.status_code == 409
    assert "already exists" in error_of(response)["message"]


# --- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field",
    [
        ({"from_email": "not an address"}, "from_email"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"smtp_port": 70000}, "smtp_port"),
        ({"smtp_security": "ssl"}, "smtp_security"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": mailboxes.MAX_DAILY_CAP + 1}, "daily_cap"),
        ({"min_interval_seconds": -1}, "min_interval_seconds"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"smtp_host": "smtp.pickwell.example\r\nRCPT TO:<x@y>"}, "smtp_host"),
        ({"smtp_password": "pässword"}, "smtp_password"),  # smtplib signs in in ASCII
    ],
)
def test_bad_values_get_a_field_error(api, change, field):
    response = api.post("/api/v1/mailboxes/", {**MAILBOX, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_of(response)["details"]
    assert Mailbox.unscoped_objects.filter(from_email="sam@pickwell.example").count() == 0


def test_the_rules_hold_for_a_direct_call_too(workspace):
    with pytest.raises(mailboxes.AppError) as caught:
        mailboxes.mailbox_create(workspace=workspace, **{**MAILBOX, "timezone": "Nowhere"})
    assert caught.value.details == {
        "timezone": ["'Nowhere' is not a time zone name (like Europe/London)."]
    }


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.5", "169.254.169.254", "::ffff:10.0.0.5"])
def test_a_private_host_is_refused_when_no_network_is_allowed(api, settings, host):
    settings.MAILBOX_ALLOWED_NETWORKS = []
    response = api.post("/api/v1/mailboxes/", {**MAILBOX, "smtp_host": host}, format="json")
    assert response.status_code == 400
    message = error_of(response)["details"]["smtp_host"][0]
    assert "not a public address" in message and "internet" in message


def test_a_private_imap_host_is_refused_too(api, settings):
    settings.MAILBOX_ALLOWED_NETWORKS = []
    payload = {**MAILBOX, "smtp_host": "93.184.215.14", "smtp_security": "starttls"}
    response = api.post(
        "/api/v1/mailboxes/", {**payload, "imap_host": "192.168.0.10"}, format="json"
    )
    assert response.status_code == 400
    assert "imap_host" in error_of(response)["details"]


def test_a_host_that_does_not_resolve_says_so(api):
    payload = {**MAILBOX, "smtp_host": "no-such-host.invalid"}
    response = api.post("/api/v1/mailboxes/", payload, format="json")
    assert response.status_code == 400
    assert "Cannot resolve no-such-host.invalid" in error_of(response)["message"]


def test_a_plain_connection_is_only_for_an_allowed_network(api, settings):
    # Over the internet a plain connection would carry the password in clear text.
    settings.MAILBOX_ALLOWED_NETWORKS = []
    payload = {**MAILBOX, "smtp_host": "93.184.215.14", "smtp_security": "none"}
    response = api.post("/api/v1/mailboxes/", payload, format="json")
    assert response.status_code == 400
    assert "clear text" in error_of(response)["details"]["smtp_security"][0]
    payload["smtp_security"] = "starttls"
    assert api.post("/api/v1/mailboxes/", payload, format="json").status_code == 201


# --- Test connection -------------------------------------------------------------------


@pytest.fixture
def mailbox(workspace, smtp_server):
    smtp_server.credentials = {"sam": SECRET}
    return MailboxFactory(
        workspace=workspace, smtp_port=smtp_server.port, smtp_username="sam", smtp_password=SECRET
    )


def test_a_working_mailbox_passes_the_test_and_the_result_is_kept(api, mailbox):
    response = api.post(f"/api/v1/mailboxes/{mailbox.pk}/test/")

    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.json()["smtp"].startswith("OK")
    assert response.json()["imap"] is None
    mailbox.refresh_from_db()
    assert mailbox.last_tested_at is not None and mailbox.last_test_result.startswith("SMTP: OK")


def test_a_wrong_password_is_named_as_such(api, mailbox):
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_password="wrong")
    result = api.post(f"/api/v1/mailboxes/{mailbox.pk}/test/").json()
    assert result["ok"] is False
    assert result["smtp"] == "127.0.0.1 refused the username or password."


def test_a_refused_port_is_named_as_such(workspace):
    port = free_port()
    mailbox = MailboxFactory(workspace=workspace, smtp_port=port)
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    result = mailboxes.mailbox_test(mailbox=mailbox, now=now)

    assert not result.ok
    assert result.smtp == f"127.0.0.1 refused the connection on port {port}."
    mailbox.refresh_from_db()
    assert mailbox.last_tested_at == now
    assert mailbox.last_test_result == f"SMTP: {result.smtp}"


def test_a_failed_test_marks_the_mailbox_failing_and_a_passing_one_makes_it_active_again(
    api, mailbox
):
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_password="wrong")
    api.post(f"/api/v1/mailboxes/{mailbox.pk}/test/")
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.FAILING
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_password=SECRET)
    api.post(f"/api/v1/mailboxes/{mailbox.pk}/test/")
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.ACTIVE


def test_a_paused_mailbox_stays_paused_whatever_its_test_says(api, mailbox):
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(status=Mailbox.Status.PAUSED)
    assert api.post(f"/api/v1/mailboxes/{mailbox.pk}/test/").json()["ok"] is True
    mailbox.refresh_from_db()
    assert mailbox.status == Mailbox.Status.PAUSED


def test_a_host_no_longer_allowed_is_refused_before_any_connection(mailbox, settings):
    settings.MAILBOX_ALLOWED_NETWORKS = []
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert not result.ok and "not a public address" in result.smtp


class _ImapHandler(socketserver.StreamRequestHandler):
    """Just enough IMAP4rev1 for a sign-in: greeting, CAPABILITY, LOGIN, LOGOUT."""

    credentials: tuple[str, str] = ("sam", SECRET)

    def handle(self) -> None:
        self.wfile.write(b"* OK IMAP4rev1 ready\r\n")
        for raw in self.rfile:
            tag, command, *rest = raw.decode().rstrip("\r\n").split(" ", 2)
            command = command.upper()
            if command == "CAPABILITY":
                self.wfile.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n")
                self.wfile.write(f"{tag} OK done\r\n".encode())
            elif command == "LOGIN":
                user, password = (part.strip('"') for part in rest[0].split(" ", 1))
                ok = (user, password) == self.credentials
                reply = "OK signed in" if ok else "NO [AUTHENTICATIONFAILED] Invalid"
                self.wfile.write(f"{tag} {reply}\r\n".encode())
            elif command == "LOGOUT":
                self.wfile.write(f"* BYE\r\n{tag} OK bye\r\n".encode())
                return
            else:
                self.wfile.write(f"{tag} BAD unknown\r\n".encode())


@pytest.fixture
def imap_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ImapHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_imap_is_tested_when_it_is_set(mailbox, imap_port):
    mailbox.imap_host, mailbox.imap_port = "127.0.0.1", imap_port
    mailbox.imap_security, mailbox.imap_username = "none", "sam"
    mailbox.imap_password = SECRET
    mailbox.save()

    assert mailboxes.mailbox_test(mailbox=mailbox).imap == "OK: connected and signed in."

    mailbox.imap_password = "wrong"
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert not result.ok and result.smtp.startswith("OK")
    assert result.imap == "127.0.0.1 refused the username or password."
    assert "IMAP: 127.0.0.1 refused" in result.summary


def test_an_imap_port_that_refuses_is_named_as_such(mailbox):
    port = free_port()
    mailbox.imap_host, mailbox.imap_port, mailbox.imap_security = "127.0.0.1", port, "tls"
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert result.imap == f"127.0.0.1 refused the connection on port {port}."


def test_tls_to_a_plain_imap_server_is_a_tls_error(mailbox, imap_port):
    mailbox.imap_host, mailbox.imap_port, mailbox.imap_security = "127.0.0.1", imap_port, "tls"
    result = mailboxes.mailbox_test(mailbox=mailbox)
    assert result.imap is not None and result.imap.startswith("TLS with 127.0.0.1 failed")


# --- secrets -----------------------------------------------------------------------------


def test_a_password_never_appears_in_responses_activities_or_logs(
    api, workspace, smtp_server, caplog
):
    caplog.set_level(logging.DEBUG)
    smtp_server.credentials = {"sam": SECRET}
    created = api.post(
        "/api/v1/mailboxes/", {**MAILBOX, "smtp_port": smtp_server.port}, format="json"
    )
    mailbox_id = created.json()["id"]
    responses = [
        created,
        api.get("/api/v1/mailboxes/"),
        api.get(f"/api/v1/mailboxes/{mailbox_id}/"),
        api.patch(
            f"/api/v1/mailboxes/{mailbox_id}/", {"smtp_password": SECRET + "2"}, format="json"
        ),
        api.post(f"/api/v1/mailboxes/{mailbox_id}/test/"),
        api.get("/api/v1/activities/"),
    ]

    for response in responses:
        assert SECRET not in response.content.decode(), response.request["PATH_INFO"]
    activities = Activity.objects.for_workspace(workspace).filter(
        object_type="mailbox", object_id=str(mailbox_id)
    )
    assert {a.type for a in activities} == {"mailbox.created", "mailbox.updated"}
    assert all(SECRET not in json.dumps(a.payload) for a in activities)
    assert "smtp_password" in activities.get(type="mailbox.updated").payload["changed"]
    assert SECRET not in caplog.text
    assert responses[4].json()["ok"] is False  # the new password is not the server's


# --- the campaign's sending settings -------------------------------------------------------


@pytest.fixture
def campaign(workspace):
    return CampaignFactory(workspace=workspace)


def test_a_campaign_is_given_mailboxes_a_domain_cap_and_made_active(api, workspace, campaign):
    first, second = MailboxFactory.create_batch(2, workspace=workspace)
    payload = {
        "mailboxes": [str(first.pk), str(second.pk)],
        "status": "active",
        "recipient_domain_daily_cap": 5,
        "send_window_start": "09:00",
        "send_window_end": "17:30",
        "send_days": [0, 1, 2, 3],
        "timezone": "Europe/Berlin",
        "pause_colleagues_on_reply": False,
    }

    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", payload, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert sorted(body["mailboxes"]) == sorted([str(first.pk), str(second.pk)])
    assert body["status"] == "active" and body["recipient_domain_daily_cap"] == 5
    assert body["send_window_start"] == "09:00" and body["send_window_end"] == "17:30"
    assert body["send_days"] == [0, 1, 2, 3] and body["timezone"] == "Europe/Berlin"
    assert body["pause_colleagues_on_reply"] is False
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert set(campaign.mailboxes.all()) == {first, second}


def test_a_campaign_without_an_active_mailbox_cannot_be_made_active(api, workspace, campaign):
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"status": "active"}, format="json")
    assert response.status_code == 409
    assert "no active mailbox" in error_of(response)["message"]

    paused = MailboxFactory(workspace=workspace, status=Mailbox.Status.PAUSED)
    payload = {"status": "active", "mailboxes": [str(paused.pk)]}
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", payload, format="json")
    assert response.status_code == 409
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not campaign.mailboxes.exists()  # the whole change was rolled back


def test_an_active_campaign_cannot_lose_its_last_mailbox(api, workspace, campaign):
    mailbox = MailboxFactory(workspace=workspace)
    payload = {"status": "active", "mailboxes": [str(mailbox.pk)]}
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", payload, format="json")
    assert response.status_code == 200
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"mailboxes": []}, format="json")
    assert response.status_code == 409


def test_another_workspaces_mailbox_cannot_be_chosen(api, neighbour, campaign):
    theirs = MailboxFactory(workspace=neighbour.workspace)
    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/", {"mailboxes": [str(theirs.pk)]}, format="json"
    )
    assert response.status_code == 400
    assert "mailboxes" in error_of(response)["details"]
    assert not campaign.mailboxes.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"send_days": []}, "send_days"),
        ({"send_days": [7]}, "send_days"),
        ({"send_window_start": "18:00", "send_window_end": "08:00"}, "send_window_end"),
        ({"timezone": "Berlin"}, "timezone"),
        ({"recipient_domain_daily_cap": 0}, "recipient_domain_daily_cap"),
    ],
)
def test_bad_sending_settings_get_a_field_error(api, campaign, change, field):
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}/", change, format="json")
    assert response.status_code == 400, response.json()
    assert field in error_of(response)["details"]


# --- the web pages -------------------------------------------------------------------------


def test_a_mailbox_is_added_edited_and_tested_in_the_web_ui(web, workspace, smtp_server):
    smtp_server.credentials = {"sam": SECRET}
    form = {
        **{k: v for k, v in MAILBOX.items()},
        "smtp_port": smtp_server.port,
        "imap_security": "tls",
        "warmup_start": 5,
        "warmup_increment": 5,
        "status": "active",
    }
    response = web.post("/mailboxes/new/", form)
    assert response.status_code == 302, response.content.decode()
    mailbox = Mailbox.objects.for_workspace(workspace).get()
    assert mailbox.smtp_password == SECRET

    page = web.get(f"/mailboxes/{mailbox.pk}/").content.decode()
    assert SECRET not in page and "leave blank to keep it" in page
    web.post(f"/mailboxes/{mailbox.pk}/", {**form, "smtp_password": "", "daily_cap": 10})
    mailbox.refresh_from_db()
    assert mailbox.daily_cap == 10 and mailbox.smtp_password == SECRET

    response = web.post(f"/mailboxes/{mailbox.pk}/test/", follow=True)
    assert "Connection works." in response.content.decode()
    listing = web.get("/mailboxes/").content.decode()
    assert "sam@pickwell.example" in listing and "SMTP: OK" in listing


def test_a_refused_host_is_shown_on_the_field(web, settings):
    settings.MAILBOX_ALLOWED_NETWORKS = []
    form = {**MAILBOX, "imap_security": "tls", "warmup_start": 5, "warmup_increment": 5}
    response = web.post("/mailboxes/new/", {**form, "status": "active"})
    assert response.status_code == 200
    assert "not a public address" in response.content.decode()


def test_the_campaign_form_chooses_mailboxes_and_the_window(web, workspace, campaign):
    mailbox = MailboxFactory(workspace=workspace)
    page = web.get(f"/campaigns/{campaign.pk}/edit/").content.decode()
    assert mailbox.from_email in page and "Sending days" in page
    form = {
        "name": campaign.name,
        "status": "active",
        "product": campaign.product,
        "call_to_action": campaign.call_to_action,
        "language": "en",
        "autonomy": "approve",
        "review_sample_share": "0.1",
        "max_words_first_touch": 120,
        "max_words_follow_up": 80,
        "mailboxes": [str(mailbox.pk)],
        "recipient_domain_daily_cap": 7,
        "send_window_start": "08:30",
        "send_window_end": "17:00",
        "send_days": ["0", "2", "4"],
        "timezone": "America/New_York",
    }
    response = web.post(f"/campaigns/{campaign.pk}/edit/", form)
    assert response.status_code == 302, response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == "active" and list(campaign.mailboxes.all()) == [mailbox]
    assert campaign.send_days == [0, 2, 4] and campaign.recipient_domain_daily_cap == 7

    response = web.post(f"/campaigns/{campaign.pk}/edit/", {**form, "mailboxes": []})
    assert response.status_code == 200
    assert "no active mailbox" in response.content.decode()


def test_the_admin_never_shows_a_password(admin_client, workspace):
    mailbox = MailboxFactory(workspace=workspace, smtp_password=SECRET, imap_password=SECRET)
    page = admin_client.get(f"/admin/outreach/mailbox/{mailbox.pk}/change/")
    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert SECRET not in admin_client.get("/admin/outreach/mailbox/").content.decode()
