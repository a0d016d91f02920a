"""Bulk actions on the companies list (issue 14): research again, suppress the domain, add
their leads to a campaign, export; ticked or all matching, within the workspace only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from leads import company_bulk
from leads.models import Company, Suppression
from outreach.models import Enrollment
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    LeadFactory,
    SequenceStepFactory,
    SignalFactory,
)

pytestmark = pytest.mark.django_db


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _post(web, **data):
    return web.post("/leads/companies/bulk/", data, follow=True)


def test_the_list_has_a_box_per_company_and_the_actions(web, workspace):
    CompanyFactory(workspace=workspace, name="Acme Robotics")
    page = web.get("/leads/companies/").content.decode()
    assert 'name="company"' in page and 'data-testid="company-bulk"' in page
    assert "Research again" in page and "Suppress domain" in page


def test_suppressing_ticked_companies_suppresses_their_domains(web, workspace, neighbour):
    acme = CompanyFactory(workspace=workspace, domain="acme.example")
    other = CompanyFactory(workspace=workspace, domain="other.example")
    theirs = neighbour.rows[Company]

    response = _post(web, action="suppress", company=[str(acme.pk), str(theirs.pk)])

    assert "Suppressed 1 company: nobody there is emailed again." in _said(response)
    values = set(Suppression.objects.for_workspace(workspace).values_list("kind", "value"))
    assert values == {("domain", "acme.example")}
    assert other.domain not in {v for _, v in values}
    assert (
        not Suppression.objects.for_workspace(neighbour.workspace)
        .filter(value=theirs.domain, reason__contains="companies list")
        .exists()
    )

    again = _post(web, action="suppress", company=[str(acme.pk)])
    assert "Skipped: 1 already suppressed." in _said(again)


def test_research_again_queues_the_ticked_companies(
    web, workspace, django_capture_on_commit_callbacks
):
    done = CompanyFactory(workspace=workspace, enrich_status=Company.EnrichStatus.DONE)
    failed = CompanyFactory(workspace=workspace, enrich_status=Company.EnrichStatus.FAILED)
    untouched = CompanyFactory(workspace=workspace, enrich_status=Company.EnrichStatus.DONE)

    with django_capture_on_commit_callbacks(execute=False) as hints:
        response = _post(web, action="research", company=[str(done.pk), str(failed.pk)])

    assert "Researching 2 companies again" in _said(response)
    statuses = dict(Company.objects.for_workspace(workspace).values_list("pk", "enrich_status"))
    assert statuses[done.pk] == statuses[failed.pk] == Company.EnrichStatus.QUEUED
    assert statuses[untouched.pk] == Company.EnrichStatus.DONE
    assert hints  # the research tasks are hinted once the change commits


def test_adding_companies_to_a_campaign_enrolls_their_leads(web, workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign)
    acme = CompanyFactory(workspace=workspace)
    LeadFactory(workspace=workspace, company=acme)
    LeadFactory(workspace=workspace, company=acme, email="")
    LeadFactory(workspace=workspace)  # at another company: not added

    response = _post(web, action="enroll", company=[str(acme.pk)], campaign=str(campaign.pk))

    assert "Added 1 lead at these companies to the campaign." in _said(response)
    assert "Skipped: 1 not eligible" in _said(response)
    assert Enrollment.objects.for_workspace(workspace).filter(lead__company=acme).count() == 1


def test_all_matching_follows_the_search_and_export_writes_every_one(web, workspace):
    CompanyFactory(
        workspace=workspace,
        name="=HYPERLINK(1) Robotics",
        domain="robo.example",
        tech_stack=["Shopify", "HubSpot"],
    )
    CompanyFactory(workspace=workspace, name="Bakery", domain="bread.example")

    response = web.post(
        "/leads/companies/bulk/", {"action": "export", "scope": "matching", "q": "robo"}
    )

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["domain"] for row in rows] == ["robo.example"]
    assert rows[0]["name"].startswith("'=")  # a formula is written as text
    assert rows[0]["tech_stack"] == "Shopify; HubSpot"


def test_nothing_ticked_or_too_many_is_refused_whole(web, workspace, monkeypatch):
    assert "No companies selected" in _said(_post(web, action="suppress"))
    bad_id = web.post("/leads/companies/bulk/", {"action": "suppress", "company": "nope"})
    assert bad_id.status_code == 400
    for i in range(3):
        CompanyFactory(workspace=workspace, domain=f"c{i}.example")
    monkeypatch.setattr(company_bulk, "MAX_COMPANIES", 2)
    response = _post(web, action="suppress", scope="matching")
    assert "More than 2 companies selected" in _said(response)
    assert not Suppression.objects.for_workspace(workspace).exists()


def test_the_list_filters_companies_as_the_leads_list_does_and_acts_on_what_it_shows(
    web, workspace
):
    today = timezone.now().date()
    small = CompanyFactory(
        workspace=workspace,
        name="Small Shop",
        industry="Retail",
        employee_count=12,
        tech_stack=["Go", "Shopify"],
    )
    large = CompanyFactory(
        workspace=workspace,
        name="Large Logistics",
        industry="Logistics",
        employee_count=4_000,
        tech_stack=["Google Analytics"],
    )
    unknown = CompanyFactory(workspace=workspace, name="Unknown Co", employee_count=None)
    SignalFactory(workspace=workspace, company=small, kind="hiring", happened_on=today)
    SignalFactory(
        workspace=workspace, company=large, kind="funding", happened_on=today - timedelta(days=60)
    )

    def shown(**filters) -> set[str]:
        page = web.get("/leads/companies/", filters).content.decode()
        return {c.name for c in (small, large, unknown) if c.name in page}

    assert shown(industry="retail") == {"Small Shop"}
    assert shown(size="1001+") == {"Large Logistics"}
    assert shown(tech="Go") == {"Small Shop"}  # a whole name: not "Google Analytics"
    assert shown(signal="funding") == {"Large Logistics"}
    assert shown(signal_within="30") == {"Small Shop"}
    assert shown(signal_within="90", size="11-50") == {"Small Shop"}
    for bad in [{"size": "huge"}, {"signal": "gossip"}, {"status": "maybe"}]:
        assert web.get("/leads/companies/", bad).status_code == 400, bad

    page = web.get("/leads/companies/", {"size": "1001+"}).content.decode()
    assert '<input type="hidden" name="size" value="1001+">' in page  # the bulk form keeps it
    response = _post(web, action="suppress", scope="matching", size="1001+")
    assert "Suppressed 1 company" in _said(response)
    assert response.redirect_chain[-1][0] == "/leads/companies/?size=1001%2B"
    suppressed = Suppression.objects.for_workspace(workspace).values_list("value", flat=True)
    assert list(suppressed) == [large.domain]
