"""A lead is scored when it is written, not only at night: imported, pushed by the CRM,
added or edited in the UI, it gets its score and reasons once the write commits, so the
list sorts it and enrollment ranks it the same day."""

from __future__ import annotations

import pytest

from leads import services
from leads.models import Lead
from leads.titles import title_classify
from ranking.models import IdealCustomerProfile
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def profile(workspace):
    return IdealCustomerProfile.unscoped_objects.create(
        workspace=workspace, seniorities=["vp"], titles=["sales"]
    )


def test_leads_pushed_in_bulk_are_scored_after_the_commit(
    api, workspace, profile, django_capture_on_commit_callbacks
):
    rows = [
        {"email": "vp@acme.example", "title": "VP Sales"},
        {"email": "intern@acme.example", "title": "Intern"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/leads/bulk-upsert/", {"leads": rows}, format="json")
    assert response.status_code == 200, response.json()
    leads = {lead.email: lead for lead in Lead.objects.for_workspace(workspace)}
    vp, intern = leads["vp@acme.example"], leads["intern@acme.example"]
    assert vp.score is not None and intern.score is not None
    assert vp.score > intern.score
    assert vp.score_basis == "profile" and vp.score_reasons


def test_a_lead_added_in_the_ui_is_scored(
    web, workspace, profile, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        web.post("/leads/new/", {"email": "dana@acme.example", "title": "VP Sales"})
    assert Lead.objects.for_workspace(workspace).get().score is not None


def test_an_edit_that_changes_the_title_moves_the_score(
    workspace, profile, django_capture_on_commit_callbacks
):
    lead = LeadFactory(workspace=workspace, title="Intern", seniority="entry")
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_update(lead=lead, data={"title": "Intern"})
    before = Lead.objects.for_workspace(workspace).get(pk=lead.pk).score
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_update(lead=lead, data={"title": "VP of Sales"})
    after = Lead.objects.for_workspace(workspace).get(pk=lead.pk).score
    assert before is not None and after > before


def test_unchanged_rows_queue_no_scoring(
    api, workspace, profile, django_capture_on_commit_callbacks
):
    seniority, department = title_classify("VP Sales")
    LeadFactory(
        workspace=workspace,
        email="dana@acme.example",
        title="VP Sales",
        seniority=seniority,
        department=department,
        company=CompanyFactory(workspace=workspace, domain="acme.example"),
        score=0.5,
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/leads/bulk-upsert/",
            {"leads": [{"email": "dana@acme.example", "title": "VP Sales"}]},
            format="json",
        )
    assert response.json()["results"][0]["status"] == "unchanged"
    # Scoring it again would have replaced the 0.5 (which no model gave it).
    assert Lead.objects.for_workspace(workspace).get().score == 0.5


def test_research_scores_the_companys_leads_again_with_what_it_found(
    workspace, http_server, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    from leads.enrichment import company_enrich

    settings.FETCH_POLITENESS_DELAY = 0
    IdealCustomerProfile.unscoped_objects.create(workspace=workspace, industries=["automation"])
    site = Path(__file__).resolve().parents[2] / "leads" / "demo_sites" / "northwind-robotics"
    http_server.serve_directory("/", site)
    company = CompanyFactory(
        workspace=workspace, domain="northwind-robotics.example", website=http_server.url("/")
    )
    lead = LeadFactory(workspace=workspace, company=company, title="Engineer")
    with django_capture_on_commit_callbacks(execute=True):
        company_enrich(company=company)
    leads = Lead.objects.for_workspace(workspace).filter(company=company)
    assert leads.count() > 1  # the team page's people too
    assert not leads.filter(score__isnull=True).exists()
    reasons = Lead.objects.for_workspace(workspace).get(pk=lead.pk).score_reasons
    assert any("ndustry" in str(reason) for reason in reasons), reasons
