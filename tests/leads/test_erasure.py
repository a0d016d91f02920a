"""Erasing a person: everything about them goes, a hash stays so they are never mailed again."""

from __future__ import annotations

import pytest

from leads.contactability import is_suppressed, suppression_add
from leads.erasure import lead_erase
from leads.models import Fact, ImportRowError, Lead, Suppression
from outreach.enrollment import campaign_enroll
from outreach.models import Enrollment, Message, MessageFeedback, Outcome
from outreach.outcomes import outcome_record
from outreach.review import message_reject
from sdr.activity import activity_record
from sdr.models import Activity, Membership
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    FactFactory,
    ImportRowErrorFactory,
    LeadFactory,
    MembershipFactory,
    MessageFactory,
    SequenceStepFactory,
)

EMAIL = "dana.lee@acme.example"


@pytest.fixture
def person(workspace):
    """A lead with a history: facts, an enrollment with a reviewed draft, an outcome,
    an unsubscribe, and a rejected import row quoting the address."""
    lead = LeadFactory(workspace=workspace, email=EMAIL, first_name="Dana", last_name="Lee")
    activity_record(
        workspace=workspace,
        type="lead.created",
        object_type="lead",
        object_id=lead.pk,
        payload={"source": "api", "email": EMAIL},
    )
    FactFactory(workspace=workspace, company=lead.company, lead=lead, field="title", value="CTO")
    company_fact = FactFactory(workspace=workspace, company=lead.company, field="industry")
    enrollment = EnrollmentFactory(workspace=workspace, lead=lead)
    message = MessageFactory(workspace=workspace, enrollment=enrollment)
    message_reject(message=message, user=None, reason="Dana would hate this")
    outcome_record(lead=lead, kind="unsubscribed", evidence="Dana Lee: stop writing", source="ui")
    ImportRowErrorFactory(workspace=workspace, raw={"email": EMAIL, "timezone": "Mars/Base"})
    return {
        "lead": lead,
        "enrollment": enrollment,
        "message": message,
        "company_fact": company_fact,
    }


def test_erasing_deletes_the_person_and_everything_about_them(workspace, person):
    lead = person["lead"]
    lead_erase(lead=lead)
    assert not Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()
    assert not Fact.objects.for_workspace(workspace).filter(lead_id=lead.pk).exists()
    assert not Enrollment.objects.for_workspace(workspace).exists()
    assert not Message.objects.for_workspace(workspace).exists()
    assert not MessageFeedback.objects.for_workspace(workspace).exists()
    assert not Outcome.objects.for_workspace(workspace).exists()
    # What was about their company, not about them, stays.
    assert Fact.objects.for_workspace(workspace).filter(pk=person["company_fact"].pk).exists()
    assert ImportRowError.objects.for_workspace(workspace).get().raw == {}


def test_erasing_keeps_only_a_hash_so_the_address_is_never_mailed_again(workspace, person):
    lead_erase(lead=person["lead"])
    entry = Suppression.objects.for_workspace(workspace).get(kind="address")
    assert (entry.value, entry.source) == ("", Suppression.Source.ERASURE)
    assert EMAIL not in str(
        list(Suppression.objects.for_workspace(workspace).values_list(flat=False))
    )
    assert is_suppressed(workspace=workspace, email=EMAIL)

    # The same person comes back in a CRM sync: they are a lead again, but never enrolled.
    again = LeadFactory(workspace=workspace, email=EMAIL)
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign)
    result = campaign_enroll(campaign=campaign, lead_ids=[again.pk])
    assert result.enrolled == [] and result.skipped == {"suppressed": 1}


def test_erasing_blanks_the_activities_about_them_and_logs_only_the_id(workspace, person):
    lead = person["lead"]
    other = LeadFactory(workspace=workspace)
    activity_record(
        workspace=workspace,
        type="lead.updated",
        object_type="lead",
        object_id=other.pk,
        payload={"fields": ["title"]},
    )
    about = [
        ("lead", str(lead.pk)),
        ("enrollment", str(person["enrollment"].pk)),
        ("message", str(person["message"].pk)),
    ]
    before = Activity.objects.for_workspace(workspace)
    assert {(a.object_type, a.object_id) for a in before} >= set(about)

    lead_erase(lead=lead)

    activities = Activity.objects.for_workspace(workspace)
    erased = activities.get(type="lead.erased")
    assert (erased.object_type, erased.object_id, erased.payload) == ("lead", str(lead.pk), {})
    text = str(list(activities.values_list("payload", flat=True)))
    assert EMAIL not in text and "Dana" not in text and str(lead.pk) not in text
    for activity in activities.exclude(pk=erased.pk):
        if (activity.object_type, activity.object_id) in about or activity.object_type in {
            "outcome",
            "suppression",
        }:
            assert activity.payload == {}, activity.type
    assert activities.get(object_id=str(other.pk)).payload == {"fields": ["title"]}


def test_an_ordinary_suppression_of_the_address_loses_its_clear_value(workspace):
    lead = LeadFactory(workspace=workspace, email=EMAIL)
    suppression_add(workspace=workspace, value=EMAIL, source=Suppression.Source.UI)
    lead_erase(lead=lead)
    assert list(Suppression.objects.for_workspace(workspace).values_list("value", "source")) == [
        ("", Suppression.Source.ERASURE)
    ]


def test_a_lead_without_an_address_is_erased_without_a_suppression(workspace):
    lead = LeadFactory(workspace=workspace, email="")
    lead_erase(lead=lead)
    assert not Lead.objects.for_workspace(workspace).exists()
    assert not Suppression.objects.for_workspace(workspace).exists()


# --- API and web ----------------------------------------------------------------------------


def test_delete_on_a_lead_erases_it_and_answers_204(api, workspace, person):
    lead = person["lead"]
    response = api.delete(f"/api/v1/leads/{lead.pk}/")
    assert response.status_code == 204
    assert not response.content
    assert not Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()
    assert api.get(f"/api/v1/leads/{lead.pk}/").status_code == 404
    assert api.delete(f"/api/v1/leads/{lead.pk}/").status_code == 404


def test_the_lead_page_erases_with_a_confirmed_button(web, workspace, person):
    lead = person["lead"]
    page = web.get(f"/leads/{lead.pk}/").content.decode()
    assert f'action="/leads/{lead.pk}/erase/"' in page and "data-confirm=" in page
    assert web.get(f"/leads/{lead.pk}/erase/").status_code == 405
    response = web.post(f"/leads/{lead.pk}/erase/")
    assert response.status_code == 302 and response["Location"] == "/leads/"
    assert not Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()
    assert b"is erased" in web.get("/leads/").content


def test_only_owners_and_admins_erase(client, workspace, person):
    member = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    client.force_login(member)
    lead = person["lead"]
    assert "Erase this person" not in client.get(f"/leads/{lead.pk}/").content.decode()
    assert client.post(f"/leads/{lead.pk}/erase/").status_code == 403
    response = client.delete(f"/api/v1/leads/{lead.pk}/")
    assert response.status_code == 403
    assert "owner or admin" in response.json()["error"]["message"]
    assert Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()
