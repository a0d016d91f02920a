"""Suppressions: their own table, added from anywhere, lifted only by an admin, never by data."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from leads.contactability import suppressed_emails
from leads.models import Lead, Suppression
from outreach.enrollment import campaign_enroll
from sdr.models import Activity, Membership
from tests.factories import (
    CampaignFactory,
    LeadFactory,
    MembershipFactory,
    SequenceStepFactory,
    SuppressionFactory,
)


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign)
    return campaign


def test_adding_an_address_answers_201_and_lists_it(api, workspace):
    response = api.post(
        "/api/v1/suppressions/",
        {"value": " Dana@Acme.Example ", "reason": "asked by phone"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "address"
    assert body["value"] == "dana@acme.example"
    assert body["source"] == "api"
    listed = api.get("/api/v1/suppressions/").json()["results"]
    assert [row["value"] for row in listed] == ["dana@acme.example"]


def test_adding_the_same_value_twice_keeps_one_row(api, workspace):
    api.post("/api/v1/suppressions/", {"value": "dana@acme.example"}, format="json")
    again = api.post("/api/v1/suppressions/", {"value": "DANA@acme.example"}, format="json")
    assert again.status_code == 200
    assert Suppression.objects.for_workspace(workspace).count() == 1


@pytest.mark.parametrize(
    ("value", "kind", "stored"),
    [
        ("acme.example", "domain", "acme.example"),
        ("@acme.example", "domain", "acme.example"),
        ("https://www.acme.example/about", "domain", "acme.example"),
    ],
)
def test_a_domain_is_stored_as_its_registrable_domain(api, value, kind, stored):
    body = api.post("/api/v1/suppressions/", {"value": value}, format="json").json()
    assert (body["kind"], body["value"]) == (kind, stored)


@pytest.mark.parametrize(
    "value", ["", "not an address", "dana@", "localhost", "a@b@c", "x\r\nBcc: a@b.example"]
)
def test_a_value_that_is_neither_address_nor_domain_gets_a_clear_400(api, workspace, value):
    response = api.post("/api/v1/suppressions/", {"value": value}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert not Suppression.objects.for_workspace(workspace).exists()


def test_bulk_add_keeps_the_good_values_and_reports_the_bad(api, workspace):
    response = api.post(
        "/api/v1/suppressions/bulk/",
        {"values": ["a@acme.example", "nope", "beta.example", "a@acme.example"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["existing"]) == (2, 1)
    assert [(e["index"], e["value"]) for e in body["errors"]] == [(1, "nope")]


def test_a_suppressed_address_and_a_suppressed_domain_both_block(workspace):
    SuppressionFactory(workspace=workspace, kind="address", value="dana@acme.example")
    SuppressionFactory(workspace=workspace, kind="domain", value="beta.example")
    blocked = suppressed_emails(
        workspace=workspace,
        emails=["dana@acme.example", "sam@acme.example", "ops@mail.beta.example"],
    )
    assert blocked == {"dana@acme.example", "ops@mail.beta.example"}


def test_suppressions_of_another_workspace_do_not_block(workspace, other_workspace):
    SuppressionFactory(workspace=other_workspace, value="dana@acme.example")
    assert suppressed_emails(workspace=workspace, emails=["dana@acme.example"]) == set()


def test_a_suppressed_lead_is_never_enrolled(workspace, campaign):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example")
    SuppressionFactory(workspace=workspace, kind="domain", value="acme.example")
    result = campaign_enroll(campaign=campaign, lead_ids=[lead.pk])
    assert result.enrolled == []
    assert result.skipped == {"suppressed": 1}


def test_enrollment_fills_its_limit_past_suppressed_leads(workspace, campaign):
    for n in range(3):
        LeadFactory(workspace=workspace, email=f"blocked{n}@acme.example")
    LeadFactory(workspace=workspace, email="ok@other.example")
    SuppressionFactory(workspace=workspace, kind="domain", value="acme.example")
    result = campaign_enroll(campaign=campaign, limit=1)
    assert [e.lead.email for e in result.enrolled] == ["ok@other.example"]


@pytest.mark.parametrize("status", ["new", "active", "replied", ""])
def test_no_upsert_or_patch_lifts_a_suppression(api, workspace, campaign, status):
    """The reported defect: `status: new` made an unsubscribed lead mailable again."""
    lead = LeadFactory(workspace=workspace, email="dana@acme.example")
    api.post("/api/v1/suppressions/", {"value": "dana@acme.example"}, format="json")
    api.post(
        "/api/v1/leads/bulk-upsert/",
        {"leads": [{"email": "dana@acme.example", "status": status}]},
        format="json",
    )
    api.patch(f"/api/v1/leads/{lead.pk}/", {"status": status or "new"}, format="json")
    assert suppressed_emails(workspace=workspace, emails=[lead.email]) == {lead.email}
    assert campaign_enroll(campaign=campaign, lead_ids=[lead.pk]).enrolled == []


@pytest.mark.parametrize("status", ["unsubscribed", "do_not_contact", "Bounced", "DNC"])
def test_an_opt_out_status_in_imported_data_becomes_a_suppression(api, workspace, status):
    api.post(
        "/api/v1/leads/bulk-upsert/",
        {"leads": [{"email": "gone@acme.example", "status": status}, {"email": "ok@acme.example"}]},
        format="json",
    )
    rows = Suppression.objects.for_workspace(workspace)
    assert list(rows.values_list("value", "source")) == [("gone@acme.example", "api")]
    assert Lead.objects.for_workspace(workspace).count() == 2


def test_a_member_cannot_lift_a_suppression_but_an_admin_can(client, workspace):
    row = SuppressionFactory(workspace=workspace)
    plain = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN).user
    as_member, as_admin = APIClient(), APIClient()
    as_member.force_login(plain)
    as_admin.force_login(admin)
    refused = as_member.delete(f"/api/v1/suppressions/{row.pk}/")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert as_admin.delete(f"/api/v1/suppressions/{row.pk}/").status_code == 204
    assert not Suppression.objects.for_workspace(workspace).exists()
    lifted = Activity.objects.for_workspace(workspace).get(type="suppression.lifted")
    assert lifted.actor_label == admin.get_username()


def test_an_api_key_can_lift_a_suppression(api, workspace):
    row = SuppressionFactory(workspace=workspace)
    assert api.delete(f"/api/v1/suppressions/{row.pk}/").status_code == 204


def test_an_erasure_entry_cannot_be_lifted(api, workspace):
    from leads.contactability import suppression_add_erased

    row = suppression_add_erased(workspace=workspace, email="gone@acme.example")
    assert row.value == ""
    response = api.delete(f"/api/v1/suppressions/{row.pk}/")
    assert response.status_code == 409
    listed = api.get("/api/v1/suppressions/").json()["results"]
    assert listed[0]["value"] is None
    assert suppressed_emails(workspace=workspace, emails=["gone@acme.example"])


def test_adding_a_suppression_is_in_the_activity_log(api, workspace):
    api.post("/api/v1/suppressions/", {"value": "acme.example"}, format="json")
    feed = api.get("/api/v1/activities/", {"type": "suppression.added"}).json()["results"]
    assert [(i["type"], i["payload"]["kind"]) for i in feed] == [("suppression.added", "domain")]


def test_an_opt_out_status_sent_with_an_edit_becomes_a_suppression(api, workspace):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example")
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {"status": "unsubscribed"}, format="json")
    assert response.status_code == 200
    assert suppressed_emails(workspace=workspace, emails=[lead.email]) == {lead.email}
    assert response.json()["status"] == "new"  # the stage is the product's to set


def test_bulk_add_takes_the_same_queries_for_ten_values_or_a_thousand(
    workspace, django_assert_max_num_queries
):
    from leads.contactability import suppressions_add

    SuppressionFactory(workspace=workspace, value="known0@acme.example")
    values = [f"known{n}@acme.example" for n in range(1000)]
    with django_assert_max_num_queries(12):
        result = suppressions_add(workspace=workspace, values=values, source="api")
    assert (len(result.created), len(result.existing)) == (999, 1)
