"""The zero-setup demo: seeded once, the same on every later run."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leads.models import Company, Fact, Lead
from outreach.models import Campaign, Enrollment, Message
from ranking.models import EmailGuess, IdealCustomerProfile
from sdr.models import Workspace
from tests.loopback import NETWORK_SETTINGS


@pytest.fixture(autouse=True)
def _networks_as_a_plain_process_has_them(settings):
    """No loopback from the test session: the demo commands must allow it themselves
    (the sample sites and the demo mailbox are on loopback)."""
    for name in NETWORK_SETTINGS:
        setattr(settings, name, [])


def counts():
    return (
        Workspace.objects.count(),
        Company.unscoped_objects.count(),
        Lead.unscoped_objects.count(),
        Fact.unscoped_objects.count(),
        Campaign.unscoped_objects.count(),
        Message.unscoped_objects.count(),
    )


def test_seed_demo_researches_the_sample_sites_and_drafts_a_campaign(db, settings, capsys):
    settings.DEMO_SITES_PORT = 18101  # clear of a demo someone may be running
    call_command("seed_demo")
    assert "demo@example.com / demo-password" in capsys.readouterr().out
    workspace = Workspace.objects.get(slug="demo")
    companies = Company.objects.for_workspace(workspace)
    assert set(companies.values_list("enrich_status", flat=True)) == {"done"}
    assert companies.get(domain="northwind-robotics.example").name == "Northwind Robotics"
    messages = Message.objects.for_workspace(workspace)
    assert messages.count() >= 3
    assert all(m.drafter == "offline" for m in messages)
    # Ranked before the campaign enrolled them, and every demo lead has a score and a basis.
    leads = Lead.objects.for_workspace(workspace)
    assert not leads.filter(score__isnull=True).exists()
    assert set(leads.values_list("score_basis", flat=True)) <= {"profile", "model"}
    assert IdealCustomerProfile.objects.for_workspace(workspace).exists()
    # Guesses, if any, are offline ones: never verified, and no MX found for .example.
    guesses = EmailGuess.objects.for_workspace(workspace)
    assert not guesses.filter(verified=True).exists()
    assert not guesses.filter(mx_found=True).exists()
    first = counts()

    call_command("seed_demo")
    assert counts() == first


def test_in_the_demo_an_approved_draft_goes_out_to_the_console_and_a_follow_up_follows(
    db, settings, capfd, django_capture_on_commit_callbacks
):
    from datetime import UTC, datetime

    settings.DEMO_SITES_PORT = 18101
    settings.EMAIL_DELIVERY = "console"
    call_command("seed_demo")
    workspace = Workspace.objects.get(slug="demo")
    campaign = Campaign.objects.for_workspace(workspace).get()
    assert campaign.status == Campaign.Status.ACTIVE
    assert [m.smtp_host for m in campaign.mailboxes.all()] == ["127.0.0.1"]
    # A lead whose sequence is still going: the demo's replies stopped some of them.
    message = (
        Message.objects.for_workspace(workspace)
        .filter(step__order=1, enrollment__status=Enrollment.Status.ACTIVE)
        .first()
    )
    Message.objects.for_workspace(workspace).filter(pk=message.pk).update(
        status=Message.Status.APPROVED, approved_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    capfd.readouterr()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("dispatch_due", "--now", "2026-12-07T10:00:00+00:00")  # a Monday

    out = capfd.readouterr().out
    assert "queued 1" in out
    assert (
        f"EMAIL_DELIVERY=console: from sam@pickwell.example to {message.enrollment.lead.email}"
        in out
    )
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    follow_up = Message.objects.for_workspace(workspace).get(
        enrollment=message.enrollment, step__order=2
    )
    assert follow_up.due_at is not None and follow_up.in_reply_to == message.message_id_header
