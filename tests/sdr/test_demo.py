"""The zero-setup demo: seeded once, the same on every later run."""

from __future__ import annotations

from django.core.management import call_command

from leads.models import Company, Fact, Lead
from outreach.models import Campaign, Message
from sdr.models import Workspace


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
    first = counts()

    call_command("seed_demo")
    assert counts() == first
