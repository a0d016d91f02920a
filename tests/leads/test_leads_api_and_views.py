"""Companies, leads, facts and signals through the API and the web pages."""

from __future__ import annotations

import pytest

from leads.models import Company, Lead
from sdr.activity import activity_record
from sdr.models import Activity
from tests.factories import CompanyFactory, FactFactory, LeadFactory, SignalFactory


def error_of(response) -> dict:
    return response.json()["error"]


# --- API ------------------------------------------------------------------------------


def test_a_company_is_created_by_domain_and_queued_for_research(api, workspace):
    response = api.post(
        "/api/v1/companies/",
        {"domain": "https://www.Acme.co.uk/about", "name": "Acme"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["domain"] == "acme.co.uk"
    assert body["enrich_status"] == "queued"


def test_a_second_company_with_the_same_domain_is_a_conflict(api, workspace):
    CompanyFactory(workspace=workspace, domain="acme.example")
    response = api.post("/api/v1/companies/", {"domain": "acme.example"}, format="json")
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_a_company_needs_a_real_domain(api):
    response = api.post("/api/v1/companies/", {"domain": "localhost"}, format="json")
    assert response.status_code == 400
    assert "domain" in error_of(response)["details"]


def test_editing_a_field_takes_it_out_of_the_waterfalls_hands(api, workspace):
    company = CompanyFactory(
        workspace=workspace,
        industry="Robotics",
        field_sources={"industry": {"extractor": "jsonld"}},
    )
    response = api.patch(
        f"/api/v1/companies/{company.pk}/", {"industry": "Logistics"}, format="json"
    )
    assert response.status_code == 200
    company.refresh_from_db()
    assert company.industry == "Logistics" and "industry" not in company.field_sources


def test_enrich_now_queues_research(api, workspace):
    company = CompanyFactory(workspace=workspace)
    response = api.post(f"/api/v1/companies/{company.pk}/enrich/")
    assert response.status_code == 202
    assert Company.objects.for_workspace(workspace).get().enrich_status == "queued"


def test_the_coverage_report_counts_each_field(api, workspace):
    CompanyFactory(workspace=workspace, industry="Robotics", tech_stack=["HubSpot"])
    CompanyFactory(workspace=workspace, industry="")
    report = api.get("/api/v1/companies/coverage/").json()
    by_field = {row["field"]: row for row in report["fields"]}
    assert report["companies"] == 2
    assert by_field["industry"] == {"field": "industry", "companies": 1, "share": 0.5}
    assert by_field["tech_stack"]["companies"] == 1


def test_a_lead_is_created_through_the_one_write_path(api, workspace):
    response = api.post(
        "/api/v1/leads/",
        {"email": "Dana@Acme.example", "title": "VP Sales", "first_name": "Dana"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["seniority"], body["department"]) == (
        "dana@acme.example",
        "vp",
        "sales",
    )
    assert body["company_domain"] == "acme.example"
    assert body["source"] == "api"


def test_a_bad_lead_gets_a_clear_reason(api):
    response = api.post("/api/v1/leads/", {"email": "nope"}, format="json")
    assert response.status_code == 400
    assert "email" in error_of(response)["details"]
    response = api.post(
        "/api/v1/leads/", {"email": "a@acme.example", "timezone": "Mars/Base"}, format="json"
    )
    assert response.status_code == 400
    assert "time zone" in " ".join(error_of(response)["details"]["reasons"])


def test_a_lead_update_rederives_seniority_and_refuses_a_taken_email(api, workspace):
    lead = LeadFactory(workspace=workspace, title="Engineer")
    LeadFactory(workspace=workspace, email="taken@acme.example")
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {"title": "Head of Growth"}, format="json")
    assert (response.json()["seniority"], response.json()["department"]) == ("head", "marketing")
    response = api.patch(
        f"/api/v1/leads/{lead.pk}/", {"email": "taken@acme.example"}, format="json"
    )
    assert response.status_code == 409


def test_leads_are_filtered_and_searched(api, workspace):
    LeadFactory(workspace=workspace, first_name="Dana", title="VP Sales", seniority="vp")
    LeadFactory(workspace=workspace, first_name="Robin", title="Engineer", status="replied")
    assert [r["first_name"] for r in api.get("/api/v1/leads/?search=dana").json()["results"]] == [
        "Dana"
    ]
    assert [
        r["first_name"] for r in api.get("/api/v1/leads/?status=replied").json()["results"]
    ] == ["Robin"]
    assert len(api.get("/api/v1/leads/?seniority=vp").json()["results"]) == 1


def test_lists_page_with_a_cursor_and_stay_within_a_few_queries(
    api, workspace, django_assert_max_num_queries
):
    for _ in range(7):
        LeadFactory(workspace=workspace)
    with django_assert_max_num_queries(6):
        first = api.get("/api/v1/leads/?page_size=5").json()
    assert len(first["results"]) == 5 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 2 and not second["next"]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


def test_facts_and_signals_are_read_only_and_filterable(api, workspace):
    company = CompanyFactory(workspace=workspace)
    FactFactory(workspace=workspace, company=company, field="industry", value="Robotics")
    FactFactory(workspace=workspace, company=company, field="description")
    SignalFactory(workspace=workspace, company=company, kind="funding")
    facts = api.get(f"/api/v1/facts/?company={company.pk}&field=industry").json()["results"]
    assert [f["value"] for f in facts] == ["Robotics"]
    assert facts[0]["source_url"] and facts[0]["evidence"]
    assert len(api.get("/api/v1/signals/?kind=funding").json()["results"]) == 1
    assert api.post("/api/v1/facts/", {}, format="json").status_code == 405
    assert api.get("/api/v1/facts/?company=not-a-uuid").status_code == 400


# --- web ------------------------------------------------------------------------------


def test_the_lead_list_sorts_filters_and_pages(web, workspace):
    for i in range(55):
        LeadFactory(workspace=workspace, last_name=f"Zed{i:02d}", status="new")
    LeadFactory(workspace=workspace, last_name="Aardvark", status="replied")
    first = web.get("/leads/?sort=name").content.decode()
    assert "Aardvark" in first and "56 in all" in first and 'rel="next"' in first
    assert 'aria-sort="ascending"' in first
    replied = web.get("/leads/?status=replied").content.decode()
    assert "Aardvark" in replied and "Zed00" not in replied
    partial = web.get("/leads/?q=zed5", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Zed50" in partial


def test_adding_a_lead_in_the_ui_reports_bad_input(web, workspace):
    response = web.post("/leads/new/", {"email": "not-an-email"})
    assert b"not a valid email" in response.content
    response = web.post("/leads/new/", {"email": "dana@acme.example", "first_name": "Dana"})
    lead = Lead.objects.for_workspace(workspace).get()
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert lead.source == Lead.Source.WEB


def test_a_lead_page_shows_facts_with_sources_and_signals(web, workspace):
    lead = LeadFactory(workspace=workspace)
    FactFactory(
        workspace=workspace,
        company=lead.company,
        field="industry",
        value="Robotics",
        source_url="https://company.example/about",
    )
    SignalFactory(workspace=workspace, company=lead.company, title="Raised a $12M Series A")
    page = web.get(f"/leads/{lead.pk}/").content.decode()
    assert "Robotics" in page and "https://company.example/about" in page
    assert "Raised a $12M Series A" in page


def test_enrich_now_from_the_company_page(web, workspace):
    company = CompanyFactory(workspace=workspace)
    response = web.post(f"/leads/companies/{company.pk}/enrich/", HTTP_HX_REQUEST="true")
    assert b"Queued" in response.content and b'hx-trigger="every 2s"' in response.content


@pytest.mark.parametrize(
    "url",
    [
        "/leads/companies/",
        "/leads/coverage/",
        "/leads/imports/",
        "/campaigns/",
        "/campaigns/new/",
        "/review/",
    ],
)
def test_every_page_renders(web, workspace, url):
    CompanyFactory(workspace=workspace)
    assert web.get(url).status_code == 200


# --- the API as designed ----------------------------------------------------------------


def test_creating_a_lead_whose_email_exists_is_a_409_naming_it_and_changes_nothing(api, workspace):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example", title="VP Sales")
    response = api.post(
        "/api/v1/leads/",
        {"email": "Dana@Acme.example", "title": "Intern", "external_id": "crm-9"},
        format="json",
    )
    assert response.status_code == 409, response.json()
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["details"] == {"lead": str(lead.pk)}
    lead.refresh_from_db()
    assert (lead.title, lead.external_id) == ("VP Sales", "")
    assert not Activity.objects.for_workspace(workspace).filter(type="lead.updated").exists()


def test_creating_a_lead_whose_external_id_exists_is_a_409_naming_it(api, workspace):
    lead = LeadFactory(workspace=workspace, external_id="crm-1")
    response = api.post(
        "/api/v1/leads/", {"email": "new@acme.example", "external_id": "crm-1"}, format="json"
    )
    assert response.status_code == 409
    assert error_of(response)["details"] == {"lead": str(lead.pk)}
    assert not Lead.objects.for_workspace(workspace).filter(email="new@acme.example").exists()


def test_a_lead_created_through_the_api_is_logged_and_its_new_company_researched(api, workspace):
    response = api.post("/api/v1/leads/", {"email": "dana@newco.example"}, format="json")
    assert response.status_code == 201
    lead_id = response.json()["id"]
    company = Company.objects.for_workspace(workspace).get(domain="newco.example")
    assert company.enrich_status == Company.EnrichStatus.QUEUED
    created = Activity.objects.for_workspace(workspace).filter(type="lead.created")
    assert [(a.object_type, a.object_id) for a in created] == [("lead", lead_id)]


def test_a_lead_created_at_a_known_company_does_not_queue_it_again(api, workspace):
    company = CompanyFactory(workspace=workspace, domain="known.example", enrich_status="done")
    api.post("/api/v1/leads/", {"email": "dana@known.example"}, format="json")
    company.refresh_from_db()
    assert company.enrich_status == "done"


def test_the_bulk_upsert_queues_research_of_the_companies_it_creates(api, workspace):
    response = api.post(
        "/api/v1/leads/bulk-upsert/",
        {"leads": [{"email": "a@one.example"}, {"email": "b@two.example"}]},
        format="json",
    )
    assert response.json()["created"] == 2
    statuses = set(
        Company.objects.for_workspace(workspace)
        .filter(domain__in=["one.example", "two.example"])
        .values_list("enrich_status", flat=True)
    )
    assert statuses == {Company.EnrichStatus.QUEUED}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/api/v1/leads/{lead}/"),
        ("put", "/api/v1/companies/{company}/"),
        ("delete", "/api/v1/companies/{company}/"),
        ("post", "/api/v1/facts/"),
        ("patch", "/api/v1/facts/{fact}/"),
        ("delete", "/api/v1/facts/{fact}/"),
        ("post", "/api/v1/signals/"),
        ("delete", "/api/v1/signals/{signal}/"),
    ],
)
def test_operations_nobody_designed_do_not_exist(api, workspace, method, url):
    company = CompanyFactory(workspace=workspace)
    ids = {
        "company": company.pk,
        "lead": LeadFactory(workspace=workspace, company=company).pk,
        "fact": FactFactory(workspace=workspace, company=company).pk,
        "signal": SignalFactory(workspace=workspace, company=company).pk,
    }
    response = getattr(api, method)(url.format(**ids), {}, format="json")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_empty_optional_addresses_and_links_are_null_as_the_schema_says(api, workspace):
    company = CompanyFactory(workspace=workspace, website="")
    lead = LeadFactory(workspace=workspace, company=company, email="", linkedin_url="")
    FactFactory(workspace=workspace, company=company, source_url="")
    body = api.get(f"/api/v1/leads/{lead.pk}/").json()
    assert (body["email"], body["linkedin_url"]) == (None, None)
    assert api.get(f"/api/v1/companies/{company.pk}/").json()["website"] is None
    assert (
        api.get(f"/api/v1/facts/?company={company.pk}").json()["results"][0]["source_url"] is None
    )
    filled = LeadFactory(workspace=workspace, linkedin_url="https://www.linkedin.com/in/dana")
    assert api.get(f"/api/v1/leads/{filled.pk}/").json()["linkedin_url"] == (
        "https://www.linkedin.com/in/dana"
    )


# --- web: adding a lead and the lead's timeline -----------------------------------------


def test_adding_a_lead_that_exists_shows_a_link_to_it_and_overwrites_nothing(web, workspace):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example", title="VP Sales")
    response = web.post(
        "/leads/new/", {"email": "dana@acme.example", "first_name": "Dee", "title": "Intern"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "exists already" in page
    assert f'href="/leads/{lead.pk}/"' in page
    lead.refresh_from_db()
    assert (lead.first_name, lead.title) == ("Dana", "VP Sales")


def test_a_lead_added_in_the_ui_has_its_new_company_researched(web, workspace):
    web.post("/leads/new/", {"email": "dana@freshco.example"})
    company = Company.objects.for_workspace(workspace).get(domain="freshco.example")
    assert company.enrich_status == Company.EnrichStatus.QUEUED


def test_the_lead_page_shows_its_timeline_in_words_newest_first(web, workspace):
    from outreach.outcomes import outcome_record
    from outreach.review import message_reject
    from tests.factories import MessageFactory

    web.post("/leads/new/", {"email": "dana@acme.example", "title": "CTO"})
    lead = Lead.objects.for_workspace(workspace).get(email="dana@acme.example")
    message = MessageFactory(workspace=workspace, enrollment__lead=lead)
    message_reject(message=message, user=None, reason="Too generic")
    outcome_record(lead=lead, kind="meeting_booked", evidence="Booked Tuesday", source="ui")
    other = LeadFactory(workspace=workspace)
    activity_record(
        workspace=workspace,
        type="lead.updated",
        object_type="lead",
        object_id=other.pk,
        payload={"fields": ["title"]},
    )

    response = web.get(f"/leads/{lead.pk}/")
    timeline = response.content.decode().split('data-testid="lead-timeline"')[1].split("</ol>")[0]
    assert "Added as a lead" in timeline
    assert "Draft rejected" in timeline and "Too generic" in timeline
    assert "Outcome recorded" in timeline and "Meeting booked" in timeline
    assert timeline.index("Outcome recorded") < timeline.index("Draft rejected")
    assert timeline.index("Draft rejected") < timeline.index("Added as a lead")
    assert "message.rejected" not in timeline and "lead.created" not in timeline
    assert "Details edited" not in timeline  # the other lead's


def test_the_lead_timeline_takes_three_queries(workspace, django_assert_max_num_queries):
    from leads.selectors import lead_timeline
    from tests.factories import EnrollmentFactory, MessageFactory

    lead = LeadFactory(workspace=workspace)
    enrollment = EnrollmentFactory(workspace=workspace, lead=lead)
    lead = Lead.objects.for_workspace(workspace).select_related("workspace").get(pk=lead.pk)
    for order in (1, 2, 3):
        message = MessageFactory(workspace=workspace, enrollment=enrollment, step__order=order)
        activity_record(
            workspace=workspace,
            type="message.drafted",
            object_type="message",
            object_id=message.pk,
            payload={"campaign": str(enrollment.campaign_id)},
        )
    with django_assert_max_num_queries(3):  # the related ids, the activities, the campaigns
        entries = lead_timeline(lead=lead)
    assert [e.label for e in entries] == ["Email drafted"] * 3
    assert entries[0].detail == enrollment.campaign.name
