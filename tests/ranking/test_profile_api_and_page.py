"""The ideal customer profile through the API and the settings page, per workspace."""

from __future__ import annotations

import pytest

from ranking.models import IdealCustomerProfile
from tests.factories import CompanyFactory, LeadFactory

URL = "/api/v1/ranking/profile/"


def test_profile_reads_empty_then_writes_and_rescored_leads(
    api, workspace, django_capture_on_commit_callbacks
):
    company = CompanyFactory(workspace=workspace, industry="Fintech", employee_count=30)
    lead = LeadFactory(workspace=workspace, company=company, seniority="vp")
    assert api.get(URL).json()["industries"] == []

    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            URL,
            {"industries": ["Fintech", "fintech "], "seniorities": ["vp"], "excluded": []},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["industries"] == ["Fintech", "fintech"]
    assert response.json()["company_sizes"] == []
    lead.refresh_from_db()
    assert lead.score_basis == "profile"
    assert {r["feature"] for r in lead.score_reasons} == {"icp:industry", "icp:seniority"}
    patched = api.patch(URL, {"titles": ["sales"]}, format="json").json()
    assert patched["titles"] == ["sales"] and patched["seniorities"] == ["vp"]
    assert api.get("/api/v1/ranking/status/").json()["basis"] == "profile"


@pytest.mark.parametrize(
    "payload",
    [
        {"company_sizes": ["huge"]},
        {"seniorities": ["emperor"]},
        {"industries": "fintech"},
        {"industries": [{"$gt": ""}]},
        {"industries": ["x" * 81]},
        {"industries": [str(i) for i in range(51)]},
    ],
)
def test_bad_profiles_are_refused_with_the_error_shape(api, workspace, payload):
    response = api.patch(URL, payload, format="json")
    assert response.status_code == 400
    assert "error" in response.json()
    assert not IdealCustomerProfile.objects.for_workspace(workspace).exists()


def test_the_profile_is_the_callers_workspace_only(api, workspace, neighbour):
    IdealCustomerProfile.objects.for_workspace(neighbour.workspace).update_or_create(
        workspace=neighbour.workspace, defaults={"industries": ["Neighbour secret"]}
    )
    assert api.get(URL).json()["industries"] == []
    api.patch(URL, {"industries": ["mine"]}, format="json")
    theirs = IdealCustomerProfile.objects.for_workspace(neighbour.workspace).get()
    assert theirs.industries == ["Neighbour secret"]


def test_the_page_saves_the_profile_and_shows_the_cold_start(web, workspace, neighbour):
    IdealCustomerProfile.objects.for_workspace(neighbour.workspace).update_or_create(
        workspace=neighbour.workspace, defaults={"industries": ["Neighbour secret"]}
    )
    page = web.get("/ranking/profile/")
    assert page.status_code == 200
    assert b"No outcomes yet" in page.content and b"Neighbour secret" not in page.content

    response = web.post(
        "/ranking/profile/",
        {
            "industries": "SaaS, Fintech",
            "company_sizes": ["11-50", "51-200"],
            "seniorities": ["vp", "director"],
            "must_have": "<script>alert(1)</script>",
        },
    )

    assert response.status_code == 302
    profile = IdealCustomerProfile.objects.for_workspace(workspace).get()
    assert profile.industries == ["SaaS", "Fintech"]
    assert profile.company_sizes == ["11-50", "51-200"]
    page = web.get("/ranking/profile/")
    assert b"&lt;script&gt;" in page.content and b"<script>alert" not in page.content


def test_the_page_shows_bad_input_and_keeps_nothing(web, workspace):
    response = web.post("/ranking/profile/", {"company_sizes": ["enormous"]})
    assert response.status_code == 200
    assert b"Not one of" in response.content
    assert not IdealCustomerProfile.objects.for_workspace(workspace).exists()


def test_the_page_needs_a_signed_in_member(client):
    response = client.get("/ranking/profile/")
    assert response.status_code == 302 and "/login/" in response["Location"]
