"""Bad input gets a 4xx with a clear answer, never a 500 (issue 15's findings, one test each).

The rules live at the edge: `sdr.edge.BadInputMiddleware` (NUL and lone surrogates in the
query string and form bodies, the body size limit as a JSON 413 under /api/),
`sdr.parsers.JSONInputParser` (JSON depth, NUL and lone surrogates in decoded JSON),
`sdr.edge.query_uuid` (ids in query strings), and each service for the shape it needs.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leads.models import Company
from tests.factories import CampaignFactory, CompanyFactory, LeadFactory
from tests.sdr.isolation_walk import openapi


def error_of(response) -> dict:
    """The project's error shape, asserted."""
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


# -- NUL and lone surrogates in the query string ---------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/leads/?search=a%00b",
        "/api/v1/companies/?search=%00",
        "/api/v1/companies/?enrich_status=%00",
        "/api/v1/leads/?status=%00",
        "/api/v1/messages/?status=%00",
        "/api/v1/activities/?after=%00",
        "/api/v1/leads/?search=%ED%A0%80",  # a lone surrogate, UTF-8-ish encoded
        "/api/v1/leads/?%00=x",
    ],
)
def test_nul_in_an_api_filter_is_a_400_in_the_error_shape(api, url):
    response = api.get(url)
    assert response.status_code == 400 or (
        "%ED" in url and response.status_code == 200  # decoded as U+FFFD: harmless
    ), response.content[:300]
    if response.status_code == 400:
        assert error_of(response)["code"] == "invalid"


@pytest.mark.parametrize(
    "url", ["/leads/?q=a%00b", "/leads/companies/?q=%00", "/leads/suppressions/?q=%00"]
)
def test_nul_in_a_web_filter_is_a_plain_400_page(web, url):
    response = web.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_nul_in_a_web_form_is_a_400_not_a_500(web, workspace):
    response = web.post("/leads/new/", {"email": "dana@x.example", "first_name": "Da\x00na"})
    assert response.status_code == 400


def test_nul_in_a_form_body_under_the_api_is_a_400_in_the_error_shape(api):
    response = api.post(
        "/api/v1/imports/", "mapping=%00", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    error_of(response)


# -- NUL and lone surrogates inside JSON -----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "dana@x.example", "first_name": "Da\\u0000na"}',
        '{"email": "dana@x.example", "custom_fields": {"k\\u0000": "v"}}',
        '{"email": "dana@x.example", "custom_fields": {"k": "\\ud800"}}',
        '{"email": "dana@x.example", "first_name": "Da\x00na"}',  # a raw NUL byte
        b'{"email": "dana@x.example", "first_name": "\xed\xa0\x80"}',  # invalid UTF-8
    ],
)
def test_unstorable_text_in_json_is_a_400(api, body):
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert error_of(response)["code"] == "parse_error"


def test_nul_in_a_bulk_upsert_row_is_a_400(api):
    rows = [{"email": "dana@x.example", "custom_fields": {"note": "a\x00b"}}]
    response = api.post("/api/v1/leads/bulk-upsert/", {"leads": rows}, format="json")
    assert response.status_code == 400, response.content[:300]
    error_of(response)


# -- size and depth ---------------------------------------------------------------------------


def test_a_json_body_over_the_upload_limit_is_a_413_in_the_error_shape(api, settings):
    body = json.dumps({"email": "dana@x.example", "first_name": "x" * (3 * 1024 * 1024)})
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 413, response.content[:300]
    assert error_of(response)["code"] == "too_large"


def test_a_form_body_over_the_upload_limit_is_a_400_page_on_the_web(web, settings):
    response = web.post("/leads/new/", {"email": "a@x.example", "first_name": "x" * (3 * 2**20)})
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("depth", [20_000, 200])
def test_json_nested_too_deep_is_a_400(api, depth):
    body = '{"email": "dana@x.example", "custom_fields": ' + "[" * depth + "]" * depth + "}"
    response = api.post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert error_of(response)["code"] == "parse_error"


def test_json_nested_a_little_is_still_read(api):
    body = {"email": "dana@x.example", "custom_fields": {"a": "b"}}
    response = api.post("/api/v1/leads/", body, format="json")
    assert response.status_code == 201, response.content[:300]


# -- values that break a parser further in ---------------------------------------------------


@pytest.mark.parametrize("website", ["http://[::1", "http://[", "https://exa mple.com", "http://"])
def test_a_malformed_website_is_a_400_on_create(api, website):
    response = api.post(
        "/api/v1/companies/",
        {"domain": "acme.example", "website": website, "enrich": False},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]
    assert error_of(response)["code"] == "invalid"


@pytest.mark.parametrize("website", ["http://[::1", "http://["])
def test_a_malformed_website_is_a_400_on_update(api, workspace, website):
    company = CompanyFactory(workspace=workspace)
    response = api.patch(f"/api/v1/companies/{company.pk}/", {"website": website}, format="json")
    assert response.status_code == 400, response.content[:300]
    error_of(response)
    company.refresh_from_db()
    assert company.website != website


def test_a_malformed_url_as_a_company_domain_is_a_400(api):
    response = api.post(
        "/api/v1/companies/", {"domain": "http://[::1", "enrich": False}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert not Company.unscoped_objects.filter(domain__contains="[").exists()


# -- ids in query strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/leads/?company=not-a-uuid",
        "/api/v1/enrollments/?campaign=not-a-uuid",
        "/api/v1/messages/?campaign=not-a-uuid",
        "/api/v1/outcomes/?lead=not-a-uuid",
        "/api/v1/facts/?company=not-a-uuid",
        "/api/v1/facts/?lead=not-a-uuid",
        "/api/v1/signals/?company=not-a-uuid",
    ],
)
def test_a_malformed_id_in_an_api_filter_is_a_400(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    error = error_of(response)
    assert error["code"] == "invalid"
    assert list(error["details"]) == [url.split("?")[1].split("=")[0]]


def test_a_malformed_campaign_in_the_review_queue_is_a_400_page(web):
    response = web.get("/review/?campaign=not-a-uuid")
    assert response.status_code == 400


def test_well_formed_ids_still_filter(api, web, workspace):
    campaign = CampaignFactory(workspace=workspace)
    lead = LeadFactory(workspace=workspace)
    assert api.get(f"/api/v1/messages/?campaign={campaign.pk}").status_code == 200
    assert len(api.get(f"/api/v1/leads/?company={lead.company_id}").json()["results"]) == 1
    assert web.get(f"/review/?campaign={campaign.pk}").status_code == 200
    assert api.get("/api/v1/messages/?campaign=").status_code == 200  # blank: no filter


# -- every operation the schema publishes, with hostile values -------------------------------


def _operations():
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_no_api_operation_answers_500_to_hostile_query_values(api, workspace):
    company = CompanyFactory(workspace=workspace)
    failures = []
    for path, method, operation in _operations():
        url = path.replace("{id}", str(company.pk))
        params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in params:
            for value in ("%00", "not-a-uuid", "x" * 10_000, "%ED%A0%80", "-1", "%FF"):
                response = getattr(api, method)(f"{url}?{name}={value}")
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url} {name}={value[:10]}")
                elif response.status_code >= 400:
                    error_of(response)
    assert not failures, failures


def test_no_api_operation_answers_500_to_hostile_bodies(api, workspace):
    company = CompanyFactory(workspace=workspace)
    deep = "[" * 20_000 + "]" * 20_000
    bodies = {
        "nul": '{"name": "a\\u0000", "email": "a\\u0000@x.example", "subject": "\\u0000"}',
        "surrogate": '{"name": "\\udc00", "domain": "\\ud800.example"}',
        "deep": '{"name": ' + deep + "}",
        "list": "[" + deep + "]",
        "huge": json.dumps({"name": "x" * (3 * 2**20)}),
    }
    failures = []
    for path, method, _operation in _operations():
        if method not in ("post", "put", "patch"):
            continue
        url = path.replace("{id}", str(company.pk))
        for kind, body in bodies.items():
            response = getattr(api, method)(url, body, content_type="application/json")
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} {kind}: {response.status_code}")
            elif response.status_code >= 400:
                error_of(response)
    assert not failures, failures


def test_the_session_api_answers_the_same_way(client: Client, member):
    client.force_login(member)
    response = client.get("/api/v1/leads/?search=%00")
    assert response.status_code == 400
    error_of(response)


def test_the_size_limit_holds_before_anything_reads_the_body(api):
    # The idempotency middleware hashes the body: the refusal must come first, in JSON.
    body = json.dumps({"email": "dana@x.example", "first_name": "x" * (3 * 1024 * 1024)})
    response = api.post(
        "/api/v1/leads/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
