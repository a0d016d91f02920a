"""Bulk actions on the leads list (issue 14): tick leads, or take every lead the filters
match, then add them to a campaign, suppress them, erase them or export them as CSV; the
"without an email" filter; and the current view exported as it is filtered."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from leads import bulk
from leads.models import Lead, Suppression
from outreach.models import Campaign, Enrollment
from sdr.models import Membership
from tests.factories import (
    CampaignFactory,
    LeadFactory,
    MembershipFactory,
    SequenceStepFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db

BULK = "/leads/bulk/"


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace, name="Q1 warehouses")
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1, kind="first_touch")
    return campaign


def _enrolled(workspace) -> set:
    return set(Enrollment.objects.for_workspace(workspace).values_list("lead_id", flat=True))


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_the_ticked_leads_are_added_to_the_chosen_campaign(web, workspace, campaign):
    dana, lee, left = (LeadFactory(workspace=workspace) for _ in range(3))
    response = web.post(
        BULK,
        {"action": "enroll", "campaign": campaign.pk, "lead": [dana.pk, lee.pk]},
        follow=True,
    )
    assert _enrolled(workspace) == {dana.pk, lee.pk}
    assert "Added 2 leads to the campaign" in _said(response)
    assert left.pk not in _enrolled(workspace)


def test_all_matching_takes_every_lead_the_filters_match_and_keeps_the_filters(
    web, workspace, campaign
):
    vps = [LeadFactory(workspace=workspace, seniority="vp") for _ in range(3)]
    LeadFactory(workspace=workspace, seniority="entry")
    response = web.post(
        BULK, {"action": "enroll", "campaign": campaign.pk, "scope": "matching", "seniority": "vp"}
    )
    assert _enrolled(workspace) == {lead.pk for lead in vps}
    assert response.status_code == 302
    assert response["Location"] == "/leads/?seniority=vp"


def test_leads_that_cannot_be_enrolled_are_skipped_with_the_reason(web, workspace, campaign):
    kept = LeadFactory(workspace=workspace)
    no_email = LeadFactory(workspace=workspace, email="")
    suppressed = LeadFactory(workspace=workspace, email="gone@blocked.example")
    SuppressionFactory(workspace=workspace, value="gone@blocked.example")
    response = web.post(
        BULK,
        {
            "action": "enroll",
            "campaign": campaign.pk,
            "lead": [kept.pk, no_email.pk, suppressed.pk],
        },
        follow=True,
    )
    assert _enrolled(workspace) == {kept.pk}
    said = _said(response)
    assert "Added 1 lead to the campaign" in said
    assert "1 not eligible" in said and "1 suppressed" in said


def test_nothing_ticked_or_no_campaign_chosen_says_so(web, workspace, campaign):
    lead = LeadFactory(workspace=workspace)
    nothing = web.post(BULK, {"action": "enroll", "campaign": campaign.pk}, follow=True)
    assert "No leads selected" in _said(nothing)
    no_campaign = web.post(BULK, {"action": "enroll", "lead": [lead.pk]}, follow=True)
    assert "Choose the campaign" in _said(no_campaign)
    no_action = web.post(BULK, {"lead": [lead.pk]}, follow=True)
    assert "Choose what to do" in _said(no_action)
    assert not _enrolled(workspace)


def test_another_workspaces_leads_and_campaigns_are_not_reached(
    web, workspace, other_workspace, campaign
):
    theirs = LeadFactory(workspace=other_workspace)
    their_campaign = CampaignFactory(workspace=other_workspace)
    SequenceStepFactory(workspace=other_workspace, campaign=their_campaign, order=1)
    ours = LeadFactory(workspace=workspace)

    response = web.post(
        BULK, {"action": "enroll", "campaign": campaign.pk, "lead": [theirs.pk]}, follow=True
    )
    assert "No leads selected" in _said(response)
    response = web.post(
        BULK, {"action": "enroll", "campaign": their_campaign.pk, "lead": [ours.pk]}, follow=True
    )
    assert "That campaign does not exist" in _said(response)
    web.post(BULK, {"action": "suppress", "lead": [theirs.pk]})
    assert not Enrollment.unscoped_objects.filter(lead__in=[theirs, ours]).exists()
    assert not Suppression.objects.for_workspace(other_workspace).exists()


def test_a_malformed_lead_id_is_a_400(web, workspace):
    response = web.post(BULK, {"action": "suppress", "lead": ["not-a-uuid"]})
    assert response.status_code == 400


def test_more_leads_than_one_request_may_act_on_are_refused_whole(
    web, workspace, campaign, monkeypatch
):
    monkeypatch.setattr(bulk, "MAX_ACTED_ON", 2)
    for _ in range(3):
        LeadFactory(workspace=workspace)
    response = web.post(
        BULK, {"action": "enroll", "campaign": campaign.pk, "scope": "matching"}, follow=True
    )
    assert "More than 2 leads selected" in _said(response)
    assert not _enrolled(workspace)


def test_suppressing_blocks_their_addresses_and_skips_those_without_one(web, workspace):
    dana = LeadFactory(workspace=workspace, email="dana@acme.example")
    nameless = LeadFactory(workspace=workspace, email="")
    response = web.post(BULK, {"action": "suppress", "lead": [dana.pk, nameless.pk]}, follow=True)
    assert "Suppressed 1 lead. Skipped: 1 without an email." in _said(response)
    suppression = Suppression.objects.for_workspace(workspace).get()
    assert suppression.value == "dana@acme.example"
    assert suppression.source == Suppression.Source.UI

    again = web.post(BULK, {"action": "suppress", "lead": [dana.pk]}, follow=True)
    assert "1 already suppressed" in _said(again)
    assert Suppression.objects.for_workspace(workspace).count() == 1


def test_only_owners_and_admins_may_erase_in_bulk(client, workspace):
    doomed = [LeadFactory(workspace=workspace) for _ in range(2)]
    member = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    client.force_login(member)
    refused = client.post(BULK, {"action": "erase", "lead": [lead.pk for lead in doomed]})
    assert refused.status_code == 403
    assert Lead.objects.for_workspace(workspace).count() == 2
    assert "Erase</button>" not in client.get("/leads/").content.decode()

    owner = MembershipFactory(workspace=workspace, role=Membership.Role.OWNER).user
    owners = Client()
    owners.force_login(owner)
    assert "Erase</button>" in owners.get("/leads/").content.decode()
    response = owners.post(BULK, {"action": "erase", "lead": [doomed[0].pk]}, follow=True)
    assert "Erased 1 lead." in _said(response)
    assert list(Lead.objects.for_workspace(workspace)) == [doomed[1]]


def test_exporting_the_ticked_leads_gives_only_them_and_no_formula_runs(web, workspace):
    risky = LeadFactory(workspace=workspace, title='=HYPERLINK("http://evil.example","Hi")')
    plain = LeadFactory(workspace=workspace, title="VP Sales", score=0.42)
    LeadFactory(workspace=workspace)  # not ticked
    response = web.post(BULK, {"action": "export", "lead": [risky.pk, plain.pk]})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _rows(b"".join(response.streaming_content))
    assert {row["id"] for row in rows} == {str(risky.pk), str(plain.pk)}
    by_id = {row["id"]: row for row in rows}
    assert by_id[str(risky.pk)]["title"].startswith("'=HYPERLINK")
    assert by_id[str(plain.pk)]["score"] == "0.42"
    assert by_id[str(plain.pk)]["company_domain"] == plain.company.domain


def test_the_current_view_exports_as_filtered(web, workspace):
    with_email = LeadFactory(workspace=workspace)
    without = [LeadFactory(workspace=workspace, email="") for _ in range(2)]
    response = web.get("/leads/export.csv", {"has_email": "no"})
    ids = {row["id"] for row in _rows(b"".join(response.streaming_content))}
    assert ids == {str(lead.pk) for lead in without}
    assert str(with_email.pk) not in ids


def test_the_list_filters_by_email_and_marks_leads_without_one(web, workspace):
    LeadFactory(workspace=workspace, email="dana@acme.example")
    LeadFactory(workspace=workspace, email="", first_name="Nobody", last_name="Known")
    page = web.get("/leads/", {"has_email": "no"}).content.decode()
    assert "Nobody Known" in page and "dana@acme.example" not in page
    assert 'data-testid="no-email"' in page
    page = web.get("/leads/", {"has_email": "yes"}).content.decode()
    assert "dana@acme.example" in page and "Nobody Known" not in page
    assert web.get("/leads/", {"has_email": "maybe"}).status_code == 400


def test_the_list_offers_the_campaigns_leads_can_join(web, workspace, campaign):
    CampaignFactory(workspace=workspace, name="Old one", status=Campaign.Status.ARCHIVED)
    LeadFactory(workspace=workspace)
    page = web.get("/leads/").content.decode()
    target = page[page.index('name="campaign"') : page.index("Add to campaign")]
    assert "Q1 warehouses" in target
    assert "Old one" not in target  # archived: it takes no one (the filter still lists it)
    assert 'name="lead"' in page and 'value="matching"' in page


def test_the_list_filters_by_industry_signal_campaign_and_outcome(web, workspace, campaign):
    from tests.factories import CompanyFactory, EnrollmentFactory, OutcomeFactory, SignalFactory

    robots = CompanyFactory(workspace=workspace, industry="Industrial automation")
    shops = CompanyFactory(workspace=workspace, industry="Retail")
    SignalFactory(workspace=workspace, company=robots, kind="funding")
    builder = LeadFactory(workspace=workspace, company=robots, last_name="Builder")
    seller = LeadFactory(workspace=workspace, company=shops, last_name="Seller")
    EnrollmentFactory(workspace=workspace, campaign=campaign, lead=seller)
    OutcomeFactory(workspace=workspace, lead=seller, kind="positive_reply")

    def shown(**filters) -> set[str]:
        page = web.get("/leads/", filters).content.decode()
        return {name for name in ("Builder", "Seller") if f"Dana {name}" in page}

    assert shown(industry="automation") == {"Builder"}
    assert shown(signal="funding") == {"Builder"}
    assert shown(in_campaign=str(campaign.pk)) == {"Seller"}
    assert shown(outcome="positive_reply") == {"Seller"}
    assert shown(outcome="meeting_booked") == set()
    for bad in [{"signal": "rumour"}, {"outcome": "maybe"}, {"in_campaign": "not-an-id"}]:
        assert web.get("/leads/", bad).status_code == 400, bad
    # The bulk actions and the export act on what the filters show.
    rows = _rows(b"".join(web.get("/leads/export.csv", {"signal": "funding"}).streaming_content))
    assert [row["id"] for row in rows] == [str(builder.pk)]


def test_the_list_filters_by_company_size_technology_and_signal_age(web, workspace):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import CompanyFactory, SignalFactory

    today = timezone.now().date()
    small = CompanyFactory(workspace=workspace, employee_count=12, tech_stack=["Go", "Shopify"])
    large = CompanyFactory(
        workspace=workspace, employee_count=4_000, tech_stack=["Google Analytics", "HubSpot"]
    )
    unknown = CompanyFactory(workspace=workspace, employee_count=None, tech_stack=[])
    SignalFactory(workspace=workspace, company=small, kind="hiring", happened_on=today)
    SignalFactory(
        workspace=workspace, company=large, kind="funding", happened_on=today - timedelta(days=60)
    )
    for company, name in [(small, "Small"), (large, "Large"), (unknown, "Unknown")]:
        LeadFactory(workspace=workspace, company=company, last_name=name)

    def shown(**filters) -> set[str]:
        page = web.get("/leads/", filters).content.decode()
        return {n for n in ("Small", "Large", "Unknown") if f"Dana {n}" in page}

    assert shown(size="11-50") == {"Small"}
    assert shown(size="1001+") == {"Large"}
    assert shown(size="1-10") == set()
    assert shown(tech="shopify") == {"Small"}  # any case
    assert shown(tech="Go") == {"Small"}  # a whole name: not "Google Analytics"
    assert shown(tech='"]') == set()  # JSON's own characters are only text
    assert shown(signal_within="30") == {"Small"}
    assert shown(signal_within="90") == {"Small", "Large"}
    assert shown(signal="funding", signal_within="30") == set()
    assert shown(signal="funding", signal_within="90") == {"Large"}
    for bad in [{"size": "huge"}, {"signal_within": "-1"}, {"tech": "x" * 101}]:
        response = web.get("/leads/", bad)
        assert response.status_code == 400, bad
    # What the list shows is what the export and the bulk actions take.
    rows = _rows(b"".join(web.get("/leads/export.csv", {"size": "11-50"}).streaming_content))
    assert len(rows) == 1


def test_the_list_filters_by_department_named_in_words(web, workspace):
    LeadFactory(workspace=workspace, last_name="Seller", department="sales")
    LeadFactory(workspace=workspace, last_name="Helper", department="customer_success")

    page = web.get("/leads/", {"department": "customer_success"}).content.decode()

    assert "Dana Helper" in page and "Dana Seller" not in page
    assert '<option value="customer_success" selected>Customer success</option>' in page
