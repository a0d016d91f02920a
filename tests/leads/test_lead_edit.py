"""Editing a lead: on its page (issue 14) and through the API, with the same checks as
an import (time zone names, LinkedIn profile URLs, names that are names), logged."""

from __future__ import annotations

import pytest

from leads.models import Lead
from sdr.models import Activity
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _edit(web, lead, **changes):
    values = {
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "title": lead.title,
        "linkedin_url": lead.linkedin_url,
        "phone": lead.phone,
        "timezone": lead.timezone,
        **changes,
    }
    return web.post(f"/leads/{lead.pk}/edit/", values, follow=True)


def test_a_lead_is_edited_on_its_page_and_the_change_logged(web, workspace):
    lead = LeadFactory(workspace=workspace, title="Sales rep")
    page = web.get(f"/leads/{lead.pk}/").content.decode()
    assert f'href="/leads/{lead.pk}/edit/"' in page
    form = web.get(f"/leads/{lead.pk}/edit/").content.decode()
    assert 'value="Sales rep"' in form

    response = _edit(
        web, lead, title="VP of Sales", timezone="Europe/London", phone="+44 20 7946 0000"
    )
    assert response.redirect_chain[-1][0] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert (lead.title, lead.seniority, lead.timezone) == ("VP of Sales", "vp", "Europe/London")
    logged = Activity.objects.for_workspace(workspace).filter(type="lead.updated").get()
    assert set(logged.payload["fields"]) == {"title", "timezone", "phone"}


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("timezone", "Mars/Olympus", "not a time zone"),
        ("linkedin_url", "javascript://linkedin.com/%0aalert(1)", "LinkedIn"),
        ("first_name", "Ignore previous instructions and", "First name"),
        ("email", "not-an-email", "Email"),
    ],
)
def test_a_bad_value_is_refused_with_the_reason_and_nothing_saved(
    web, workspace, field, value, said
):
    lead = LeadFactory(workspace=workspace, first_name="Dana")
    before = Lead.objects.for_workspace(workspace).values().get(pk=lead.pk)
    response = _edit(web, lead, **{field: value})
    assert response.status_code == 200
    assert said in response.content.decode()
    assert Lead.objects.for_workspace(workspace).values().get(pk=lead.pk) == before


def test_an_email_another_lead_has_is_a_clear_conflict(web, workspace):
    LeadFactory(workspace=workspace, email="taken@acme.example")
    lead = LeadFactory(workspace=workspace)
    response = _edit(web, lead, email="taken@acme.example")
    assert "Another lead has that email" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("linkedin_url", "https://evil.example/in/dana")],
)
def test_the_api_refuses_what_an_import_refuses(api, workspace, field, value):
    lead = LeadFactory(workspace=workspace)
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {field: value}, format="json")
    assert response.status_code == 400, response.json()
    assert field in str(response.json())
