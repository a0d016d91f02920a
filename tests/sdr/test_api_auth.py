"""API keys: shown once, stored hashed, revocable; every failure has a clear JSON error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from sdr import services
from sdr.models import WorkspaceAPIKey

URL = "/api/v1/workspace/"


def keyed(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_a_valid_key_acts_for_its_workspace(api, workspace):
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json()["slug"] == workspace.slug


def test_keys_are_stored_hashed_never_in_clear(api_key):
    stored = WorkspaceAPIKey.objects.get()
    assert api_key not in (stored.hashed_key, stored.id)
    assert stored.hashed_key.startswith("sha512$$")


def test_no_credentials_is_401_with_a_clear_error(db):
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Api-Key nonsense", "Api-Key abc.def", "Api-Key ", "api-key x.y.z"],
)
def test_a_wrong_key_is_401_invalid_api_key(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(URL)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_a_key_with_the_right_prefix_and_wrong_secret_is_rejected(api_key):
    prefix = api_key.split(".")[0]
    response = keyed(f"{prefix}.{'x' * 32}").get(URL)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_a_revoked_key_is_401_revoked_api_key(api_key):
    services.api_key_revoke(api_key=WorkspaceAPIKey.objects.get())
    response = keyed(api_key).get(URL)
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "revoked_api_key"
    assert "revoked" in error["message"]


def test_an_expired_key_is_401_expired_api_key(api_key):
    WorkspaceAPIKey.objects.update(expiry_date=timezone.now() - timedelta(minutes=1))
    response = keyed(api_key).get(URL)
    assert response.status_code == 401
    assert error_of(response)["code"] == "expired_api_key"


def test_use_is_recorded_as_last_used(api, api_key):
    assert WorkspaceAPIKey.objects.get().last_used_at is None
    api.get(URL)
    assert WorkspaceAPIKey.objects.get().last_used_at is not None


def test_a_signed_in_member_may_use_the_api_with_their_session(client, member, workspace):
    client.force_login(member)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["slug"] == workspace.slug


def test_a_signed_in_user_without_workspace_gets_a_clear_403(client, user_factory):
    client.force_login(user_factory())
    response = client.get(URL)
    assert response.status_code == 403
    assert error_of(response)["code"] == "no_workspace"


def test_unknown_api_urls_answer_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_405_in_the_error_shape(api):
    response = api.delete(URL)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_create_api_key_command_prints_a_working_key(workspace, capsys):
    call_command("create_api_key", workspace=workspace.slug, name="Salesforce")
    key = capsys.readouterr().out.strip()
    assert keyed(key).get(URL).status_code == 200
    assert WorkspaceAPIKey.objects.get().name == "Salesforce"


def test_create_api_key_command_rejects_an_unknown_workspace(db):
    with pytest.raises(CommandError, match="No workspace with the slug 'nope'"):
        call_command("create_api_key", workspace="nope", name="x")


def test_create_api_key_command_rejects_a_blank_name(workspace):
    with pytest.raises(CommandError, match="needs a name"):
        call_command("create_api_key", workspace=workspace.slug, name="  ")


def test_the_openapi_schema_documents_api_key_auth(client, db):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "ApiKeyAuth" in schema["components"]["securitySchemes"]
    assert "/api/v1/workspace/" in schema["paths"]


def test_the_api_docs_page_loads_its_scripts_locally(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in page
    assert "cdn" not in page.lower() and "https://" not in page.split("<body")[0]


def test_the_openapi_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    assert "/api/v1/leads/bulk-upsert/" in (tmp_path / "schema.yml").read_text()


def test_the_schema_documents_each_operations_errors_in_the_one_error_shape(client, db):
    schema = client.get("/api/schema/?format=json").json()
    error_shape = schema["components"]["schemas"]["ApiErrorOutput"]
    assert error_shape["properties"]["error"] == {"$ref": "#/components/schemas/ApiErrorBody"}
    assert set(schema["components"]["schemas"]["ApiErrorBody"]["required"]) == {
        "code",
        "message",
        "details",
    }
    lead = schema["paths"]["/api/v1/leads/{id}/"]
    assert {"401", "403", "404"} <= set(lead["get"]["responses"])
    assert {"400", "404", "409"} <= set(lead["patch"]["responses"])
    assert {"get", "patch", "delete"} <= set(lead) and "put" not in lead
    assert {"400", "409"} <= set(schema["paths"]["/api/v1/leads/"]["post"]["responses"])
    assert "delete" not in schema["paths"]["/api/v1/campaigns/{id}/"]


def test_the_schema_says_empty_addresses_and_links_are_null(client, db):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    for component, field in [
        ("LeadOutput", "email"),
        ("LeadOutput", "linkedin_url"),
        ("CompanyOutput", "website"),
        ("FactOutput", "source_url"),
        ("SignalOutput", "source_url"),
    ]:
        assert schemas[component]["properties"][field]["nullable"] is True, (component, field)


def test_the_api_takes_json_only_except_for_uploads(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert set(paths["/api/v1/leads/"]["post"]["requestBody"]["content"]) == {"application/json"}
    assert "multipart/form-data" in paths["/api/v1/imports/"]["post"]["requestBody"]["content"]


def test_text_postgresql_cannot_store_is_a_400_not_a_500(api, workspace):
    response = api.post(
        "/api/v1/leads/",
        {"email": "dana@acme.example", "custom_fields": {"note": "a\u0000b"}},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    response = api.post(
        "/api/v1/leads/",
        b'{"email": "dana@acme.example", "custom_fields": {"note": "\\ud800"}}',
        content_type="application/json",
    )
    assert response.status_code == 400
