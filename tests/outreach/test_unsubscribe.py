"""One-click unsubscribe (RFC 8058): a POST with the signed link suppresses the address at
once, with no login and no CSRF token; a GET (what mail scanners do) only shows a page
with a confirm button; a link that was altered is refused with a clear page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client

from leads.contactability import is_suppressed
from leads.models import Lead, Suppression
from outreach.models import Enrollment, Message, Outcome
from outreach.unsubscribe import unsubscribe_token
from tests.factories import LeadFactory, MailboxFactory, MessageFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def message(workspace):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example")
    mailbox = MailboxFactory(workspace=workspace, from_name="Sam Seller")
    message = MessageFactory(
        workspace=workspace,
        enrollment__lead=lead,
        status=Message.Status.SENT,
        mailbox=mailbox,
        to_email="dana@acme.example",
        message_id_header="<abc@pickwell.example>",
    )
    Enrollment.unscoped_objects.filter(pk=message.enrollment_id).update(
        status=Enrollment.Status.ACTIVE
    )
    return message


@pytest.fixture
def browser():
    """A recipient: no session, and CSRF checked as in production."""
    return Client(enforce_csrf_checks=True)


def url(message) -> str:
    return f"/u/{unsubscribe_token(message=message)}/"


def test_a_one_click_post_suppresses_the_address_at_once(browser, workspace, message):
    response = browser.post(
        url(message),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    assert is_suppressed(workspace=workspace, email="dana@acme.example")
    [suppression] = Suppression.objects.for_workspace(workspace).filter(value="dana@acme.example")
    assert suppression.source == Suppression.Source.UNSUBSCRIBE
    [outcome] = Outcome.objects.for_workspace(workspace).filter(lead=message.enrollment.lead)
    assert outcome.kind == Outcome.Kind.UNSUBSCRIBED
    assert (outcome.evidence_type, outcome.evidence_id) == ("message", str(message.pk))
    assert "<abc@pickwell.example>" in outcome.evidence
    assert Enrollment.unscoped_objects.get(pk=message.enrollment_id).status == (
        Enrollment.Status.STOPPED
    )
    assert Lead.unscoped_objects.get(pk=message.enrollment.lead_id).status == (
        Lead.Status.UNSUBSCRIBED
    )


def test_unsubscribing_twice_is_harmless(browser, workspace, message):
    for _ in range(2):
        assert browser.post(url(message)).status_code == 200
    assert (
        Suppression.objects.for_workspace(workspace).filter(value="dana@acme.example").count() == 1
    )
    assert Outcome.objects.for_workspace(workspace).count() == 1


def test_a_get_only_shows_a_confirm_button(browser, workspace, message):
    response = browser.get(url(message))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post">' in page and "Unsubscribe</button>" in page
    assert "Sam Seller" in page and "d***@acme.example" in page
    assert "dana@acme.example" not in page
    # A mail scanner following the link unsubscribes nobody.
    assert not is_suppressed(workspace=workspace, email="dana@acme.example")
    assert not Outcome.objects.for_workspace(workspace).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_refused_with_a_clear_page(browser, workspace, message, method):
    token = unsubscribe_token(message=message)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")

    response = getattr(browser, method)(f"/u/{tampered}/")

    assert response.status_code == 400
    assert b"This unsubscribe link is not valid" in response.content
    assert not Suppression.objects.for_workspace(workspace).exists()


def test_a_link_signed_for_another_purpose_is_refused(browser, workspace, message):
    token = signing.dumps({"w": str(workspace.pk), "m": str(message.pk)})  # no salt
    assert browser.post(f"/u/{token}/").status_code == 400
    assert not Suppression.objects.for_workspace(workspace).exists()


def test_the_link_cannot_be_pointed_at_another_workspaces_message(
    browser, workspace, message, neighbour
):
    other = neighbour.rows[Message]
    # The neighbour's message id with our workspace: signed by us, resolves to nothing.
    token = signing.dumps({"w": str(workspace.pk), "m": str(other.pk)}, salt="outreach.unsubscribe")
    response = browser.post(f"/u/{token}/")
    assert response.status_code == 200
    assert not Suppression.objects.for_workspace(neighbour.workspace).filter(
        source=Suppression.Source.UNSUBSCRIBE
    )


def test_a_link_to_a_deleted_message_says_there_is_nothing_left(browser, workspace, message):
    link = url(message)
    message.delete()
    response = browser.post(link)
    assert response.status_code == 200
    assert b"You will not receive further emails" in response.content


def test_other_methods_are_not_allowed(browser, message):
    assert browser.put(url(message)).status_code == 405


# -- configuration ---------------------------------------------------------------------------


def load_setting(env: dict[str, str], name: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO", "DATABASE", "CELERY", "SECRET", "FIELD_", "ALLOWED", "DEBUG", "PUBLIC_")
        )
        and k != "EMAIL_DELIVERY"
    }
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdr.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "FIELD_ENCRYPTION_KEY": "k" * 44,
    "ALLOWED_HOSTS": "sdr.example.com",
}


def test_production_refuses_to_start_without_a_public_base_url():
    result = load_setting(PRODUCTION, "PUBLIC_BASE_URL")
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL is not set" in result.stderr


@pytest.mark.parametrize("value", ["http://sdr.example.com", "https://", "https://x.example/sdr"])
def test_production_needs_an_https_public_base_url_without_a_path(value):
    result = load_setting({**PRODUCTION, "PUBLIC_BASE_URL": value}, "PUBLIC_BASE_URL")
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL must be an https URL" in result.stderr


def test_the_public_base_url_is_read_without_a_trailing_slash():
    env = {**PRODUCTION, "PUBLIC_BASE_URL": "https://sdr.example.com/"}
    result = load_setting(env, "PUBLIC_BASE_URL")
    assert result.stdout.strip() == "https://sdr.example.com", result.stderr


def test_the_demo_prints_email_and_everything_else_speaks_smtp():
    assert load_setting({}, "EMAIL_DELIVERY").stdout.strip() == "console"
    with_database = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/sdr"}
    assert load_setting(with_database, "EMAIL_DELIVERY").stdout.strip() == "smtp"
    env = {**PRODUCTION, "PUBLIC_BASE_URL": "https://sdr.example.com"}
    assert load_setting(env, "EMAIL_DELIVERY").stdout.strip() == "smtp"
    result = load_setting({"EMAIL_DELIVERY": "carrier-pigeon"}, "EMAIL_DELIVERY")
    assert "EMAIL_DELIVERY must be smtp or console" in result.stderr
