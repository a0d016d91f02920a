"""Enrichment end to end: a real site on loopback, crawled, extracted, stored with sources."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from leads.enrichment import company_enrich, company_enrich_by_id, company_enrich_request
from leads.models import Company, Fact, Lead, Signal, WebPage
from sdr.errors import AppError
from sdr.fetch import Fetcher
from sdr.models import Activity
from sdr.states import claim, transition
from tests.factories import CompanyFactory

SITES = Path(__file__).resolve().parents[2] / "leads" / "demo_sites"


@pytest.fixture(autouse=True)
def _polite_but_fast(settings):
    settings.FETCH_POLITENESS_DELAY = 0


@pytest.fixture
def northwind(workspace, http_server):
    http_server.serve_directory("/", SITES / "northwind-robotics")
    return CompanyFactory(
        workspace=workspace,
        domain="northwind-robotics.example",
        name="",
        website=http_server.url("/"),
    )


def facts_of(company, field_name):
    return list(
        Fact.objects.for_workspace(company.workspace).filter(company=company, field=field_name)
    )


def test_a_company_is_researched_from_its_own_site(northwind, http_server):
    company = company_enrich(company=northwind)

    assert company.enrich_status == Company.EnrichStatus.DONE
    assert company.name == "Northwind Robotics"
    assert company.industry == "Industrial automation"
    assert company.employee_count == 85
    assert company.location == "Leeds, West Yorkshire, GB"
    assert company.phone == "+441134960123"
    assert company.socials["linkedin"] == "https://linkedin.com/company/northwind-robotics"
    assert {"HubSpot", "Google Analytics", "Greenhouse"} <= set(company.tech_stack)
    assert company.open_roles_count == 6
    paths = http_server.paths()
    assert {"/robots.txt", "/about.html", "/team.html", "/careers.html", "/press.html"} <= set(
        paths
    )


def test_every_value_keeps_its_source_and_evidence(northwind, http_server):
    company = company_enrich(company=northwind)

    name_source = company.field_sources["name"]
    assert name_source["extractor"] == "jsonld"
    assert name_source["source"] == http_server.url("/")
    assert name_source["why"].startswith(f"jsonld on {http_server.url('/')}")
    description = facts_of(company, "description")
    assert len(description) >= 2  # JSON-LD, meta, OpenGraph: all kept
    for fact in Fact.objects.for_workspace(company.workspace).filter(company=company):
        assert fact.source_url.startswith("http://127.0.0.1")
        assert fact.extractor
        assert fact.observed_at is not None


def test_funding_and_hiring_become_dated_signals_and_citable_facts(northwind):
    company = company_enrich(company=northwind)

    funding = Signal.objects.for_workspace(company.workspace).get(company=company, kind="funding")
    assert funding.amount == 12_000_000 and funding.currency == "USD"
    assert funding.details["round"] == "Series A"
    assert "Harbor Ventures" in funding.details["investors"]
    assert str(funding.happened_on) == "2026-10-14"
    hiring = Signal.objects.for_workspace(company.workspace).get(company=company, kind="hiring")
    assert len(hiring.details["sales_roles"]) == 2
    assert facts_of(company, "signal.funding")[0].value["date"] == "2026-10-14"


def test_people_on_the_team_page_become_leads(northwind):
    company = company_enrich(company=northwind)

    leads = Lead.objects.for_workspace(company.workspace).filter(company=company)
    by_name = {lead.full_name: lead for lead in leads}
    assert {"Amira Haddad", "Priya Nair", "Grace O'Neill"} <= set(by_name)
    assert by_name["Priya Nair"].seniority == "vp"
    assert by_name["Priya Nair"].department == "sales"
    assert by_name["Amira Haddad"].linkedin_url.endswith("/in/amira-haddad-nw")
    assert all(lead.source == Lead.Source.ENRICHMENT for lead in leads)


def test_a_planted_instruction_is_kept_out_of_the_facts(northwind):
    company = company_enrich(company=northwind)

    for fact in Fact.objects.for_workspace(company.workspace).filter(company=company):
        assert "ignore previous instructions" not in str(fact.value).lower()
    careers = WebPage.objects.for_workspace(company.workspace).get(
        company=company, url__endswith="/careers.html"
    )
    assert any("instruction-like" in warning for warning in careers.warnings)


def test_running_it_again_refreshes_instead_of_duplicating(northwind):
    company_enrich(company=northwind)
    counts = (
        Fact.unscoped_objects.count(),
        Signal.unscoped_objects.count(),
        Lead.unscoped_objects.count(),
    )
    company_enrich(company=Company.unscoped_objects.get(pk=northwind.pk))
    assert (
        Fact.unscoped_objects.count(),
        Signal.unscoped_objects.count(),
        Lead.unscoped_objects.count(),
    ) == counts


def test_a_second_run_asks_conditionally(northwind, http_server):
    first = company_enrich(company=northwind)
    WebPage.unscoped_objects.filter(company=first).update(etag='"v1"')
    company_enrich(company=first)
    conditional = [r for r in http_server.requests if r.headers.get("if-none-match") == '"v1"']
    assert conditional, "pages fetched before were asked for with If-None-Match"


def test_what_a_person_supplied_beats_what_was_scraped(northwind):
    northwind.industry = "Warehouse robotics"
    northwind.save()
    company = company_enrich(company=northwind)
    assert company.industry == "Warehouse robotics"
    assert facts_of(company, "industry")  # the scraped value is still kept as a fact


def test_an_unreachable_site_fails_with_the_reason(workspace, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    company = CompanyFactory(workspace=workspace, website="http://127.0.0.1:9/")
    company = company_enrich(company=company)
    assert company.enrich_status == Company.EnrichStatus.FAILED
    assert "not a public address" in company.enrich_error


def test_a_site_that_disallows_robots_is_left_alone(workspace, http_server):
    http_server.route("/robots.txt", "User-agent: *\nDisallow: /", content_type="text/plain")
    http_server.route("/", "<html><title>Secret</title></html>")
    company = CompanyFactory(workspace=workspace, website=http_server.url("/"))
    company = company_enrich(company=company)
    assert company.enrich_status == Company.EnrichStatus.FAILED
    assert "robots" in company.enrich_error
    assert "/" not in http_server.paths()


def test_a_claimed_company_is_not_enriched_twice(northwind):
    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.RUNNING
    )
    assert company_enrich_by_id(company_id=str(northwind.pk)) is None


def test_the_sitemap_leads_to_pages_the_home_page_does_not_link(workspace, http_server):
    http_server.route("/", "<html><title>Acme</title><body>Hi</body></html>")
    http_server.route(
        "/sitemap.xml",
        f"""<?xml version="1.0"?>
        <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc>{http_server.url("/company/team")}</loc></url></urlset>""",
        content_type="application/xml",
    )
    http_server.route(
        "/company/team",
        "<html><body><div><h3>Ada Lovelace</h3><p>Chief Technology Officer</p></div></body></html>",
    )
    company = CompanyFactory(workspace=workspace, website=http_server.url("/"))
    company_enrich(company=company)
    assert "/company/team" in http_server.paths()
    assert Lead.objects.for_workspace(workspace).filter(last_name="Lovelace").exists()


def test_the_fetcher_is_given_a_page_cap(northwind, http_server):
    company_enrich(company=northwind, fetcher=Fetcher(max_pages_per_domain=3))
    pages = [p for p in http_server.paths() if p != "/robots.txt"]
    assert len(pages) <= 3


def test_stale_companies_are_queued_again_by_the_hourly_task(workspace, settings):
    from leads.tasks import refresh_stale_companies_task

    settings.ENRICH_REFRESH_DAYS = 30
    old = CompanyFactory(
        workspace=workspace, enrich_status="done", enriched_at=timezone.now() - timedelta(days=31)
    )
    fresh = CompanyFactory(workspace=workspace, enrich_status="done", enriched_at=timezone.now())
    never = CompanyFactory(workspace=workspace)
    assert refresh_stale_companies_task() == 1
    statuses = dict(Company.unscoped_objects.values_list("pk", "enrich_status"))
    assert (statuses[old.pk], statuses[fresh.pk], statuses[never.pk]) == ("queued", "done", "never")


# --- claims, leases and "Enrich now" ---------------------------------------------------


def expire_lease(company) -> None:
    Company.unscoped_objects.filter(pk=company.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )


def claimed(company):
    """A worker took the company and is researching it now."""
    held = claim(
        Company,
        company.pk,
        source=Company.EnrichStatus.values,
        target=Company.EnrichStatus.RUNNING,
        lease=timedelta(minutes=5),
    )
    assert held is not None
    return held


def test_enrich_now_on_a_queued_company_sends_it_to_a_worker_again(
    api, northwind, django_capture_on_commit_callbacks
):
    # Queued long ago; its hint was lost with the broker.
    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.QUEUED
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/companies/{northwind.pk}/enrich/", {}, format="json")
    assert response.status_code == 202
    company = Company.unscoped_objects.get(pk=northwind.pk)
    assert company.enrich_status == Company.EnrichStatus.DONE
    assert company.name == "Northwind Robotics"


def test_enrich_now_takes_back_a_company_whose_worker_died(
    api, northwind, django_capture_on_commit_callbacks
):
    claimed(northwind)
    expire_lease(northwind)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/companies/{northwind.pk}/enrich/", {}, format="json")
    assert response.status_code == 202
    company = Company.unscoped_objects.get(pk=northwind.pk)
    assert company.enrich_status == Company.EnrichStatus.DONE
    assert company.attempts == 1  # a person's request starts the count again


def test_enrich_now_on_a_company_being_researched_says_so(northwind):
    claimed(northwind)
    with pytest.raises(AppError, match="being researched right now") as error:
        company_enrich_request(company=northwind)
    assert error.value.status_code == 409
    assert Company.unscoped_objects.get(pk=northwind.pk).enrich_status == "running"


def test_enrich_now_queues_a_company_that_is_not_running(
    northwind, django_capture_on_commit_callbacks
):
    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.FAILED, enrich_error="timeout", attempts=3
    )
    with django_capture_on_commit_callbacks(execute=False) as hints:
        company = company_enrich_request(company=northwind)
    assert (company.enrich_status, company.enrich_error, company.attempts) == ("queued", "", 0)
    assert len(hints) == 1


def test_the_outcome_and_its_activity_are_written_together(northwind, workspace):
    company = company_enrich(company=northwind)
    assert (company.claimed_until, company.claim_token) == (None, None)
    [enriched] = Activity.objects.for_workspace(workspace).filter(type="company.enriched")
    assert enriched.object_id == str(company.pk) and enriched.payload["pages"] > 1


def test_a_failed_run_is_in_the_activity_log(workspace, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    company = company_enrich(
        company=CompanyFactory(workspace=workspace, website="http://127.0.0.1:9/")
    )
    [failed] = Activity.objects.for_workspace(workspace).filter(type="company.enrich_failed")
    assert failed.object_id == str(company.pk)
    assert "not a public address" in failed.payload["error"]


def test_a_worker_that_lost_its_company_writes_nothing(northwind, monkeypatch):
    from leads import enrichment

    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.QUEUED
    )
    real = enrichment.site_crawl

    def slow_crawl(**kwargs):
        crawl = real(**kwargs)
        # The crawl outlived the lease: the sweeper queued the company again meanwhile.
        expire_lease(northwind)
        assert transition(
            Company,
            northwind.pk,
            source=Company.EnrichStatus.RUNNING,
            target=Company.EnrichStatus.QUEUED,
        )
        return crawl

    monkeypatch.setattr(enrichment, "site_crawl", slow_crawl)
    company = company_enrich_by_id(company_id=str(northwind.pk))

    assert company.enrich_status == Company.EnrichStatus.QUEUED
    assert not Fact.unscoped_objects.filter(company=northwind).exists()
    assert (
        not Activity.objects.for_workspace(northwind.workspace)
        .filter(type="company.enriched")
        .exists()
    )


def test_a_bug_while_recording_fails_the_company_instead_of_leaving_it_running(
    northwind, monkeypatch
):
    from leads import enrichment

    def broken(**kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(enrichment, "enrichment_record", broken)
    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.QUEUED
    )
    with pytest.raises(KeyError):
        company_enrich_by_id(company_id=str(northwind.pk))
    company = Company.unscoped_objects.get(pk=northwind.pk)
    assert company.enrich_status == Company.EnrichStatus.FAILED
    assert "Internal error (KeyError)" in company.enrich_error
    assert company.claim_token is None


def test_the_page_lets_a_person_queue_a_stuck_company_again(
    web, northwind, django_capture_on_commit_callbacks
):
    Company.unscoped_objects.filter(pk=northwind.pk).update(
        enrich_status=Company.EnrichStatus.QUEUED
    )
    page = web.get(f"/leads/companies/{northwind.pk}/").content.decode()
    assert "Queue again" in page
    assert "disabled" not in page.split('id="enrich-status"')[1].split("</div>")[0]
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"/leads/companies/{northwind.pk}/enrich/")
    assert Company.unscoped_objects.get(pk=northwind.pk).enrich_status == "done"


def test_the_page_says_why_a_live_run_is_not_started_twice(web, northwind):
    claimed(northwind)
    response = web.post(f"/leads/companies/{northwind.pk}/enrich/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "being researched right now" in response.content.decode()
    assert Company.unscoped_objects.get(pk=northwind.pk).enrich_status == "running"


def test_research_never_overwrites_what_the_crm_owns_on_a_lead(northwind):
    """Field ownership (docs/sync.md): a person the CRM sent keeps the CRM's name, title,
    phone and custom fields when the team page says otherwise."""
    crm_lead = Lead.objects.for_workspace(northwind.workspace).create(
        workspace=northwind.workspace,
        company=northwind,
        first_name="Priya",
        last_name="Nair",
        title="Chief Revenue Officer",
        phone="+1 555 0100",
        custom_fields={"owner": "sam@pickwell.example"},
        external_id="crm-42",
        source=Lead.Source.API,
    )
    company_enrich(company=northwind)
    crm_lead.refresh_from_db()
    assert (crm_lead.title, crm_lead.phone, crm_lead.external_id) == (
        "Chief Revenue Officer",
        "+1 555 0100",
        "crm-42",
    )
    assert crm_lead.custom_fields == {"owner": "sam@pickwell.example"}
    people = Lead.objects.for_workspace(northwind.workspace).filter(
        first_name="Priya", last_name="Nair"
    )
    assert people.count() == 1  # not a second Priya from the team page
