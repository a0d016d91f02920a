"""Workspace settings (issue 14): name, sending defaults (time zone, holidays) and the
model endpoint, key and model names; owners and admins only, all or nothing, the key
write-only and never logged, the endpoint vetted like every address the product calls."""

from __future__ import annotations

import pytest
from django.test import Client

from sdr import llm
from sdr.models import Activity, Membership, Workspace
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/settings/workspace/"
GOOD = {
    "name": "Acme Sales",
    "timezone": "Europe/Berlin",
    "holidays": "2026-12-25\n2026-12-24, 2026-12-25",
    "llm_base_url": "http://127.0.0.1:9/v1",
    "llm_api_key": "sk-own-0123456789",
    "model_drafting": "gpt-4.1",
    "model_checking": "",
    "model_classification": "",
}


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _saved(workspace) -> Workspace:
    return Workspace.objects.get(pk=workspace.pk)


def test_an_owner_saves_every_setting_and_the_model_calls_use_them(web, workspace):
    response = web.post(URL, GOOD, follow=True)

    assert "Saved." in _said(response)
    saved = _saved(workspace)
    assert saved.name == "Acme Sales"
    assert saved.timezone == "Europe/Berlin"
    assert saved.holidays == ["2026-12-24", "2026-12-25"]  # sorted, duplicates merged
    assert saved.llm_models == {"drafting": "gpt-4.1"}
    # What the model client will call, with which key and model.
    assert llm._endpoint(saved)[0] == "http://127.0.0.1:9/v1"
    assert str(llm._endpoint(saved)[1]) == "sk-own-0123456789"
    # The key is write-only: the page says one is set and never shows it.
    page = web.get(URL).content.decode()
    assert "a key is set" in page
    assert "sk-own-0123456789" not in page


def test_the_change_is_logged_by_field_name_never_with_the_key(web, workspace):
    web.post(URL, GOOD)

    entry = Activity.objects.for_workspace(workspace).get(type="workspace.settings_changed")
    assert set(entry.payload["fields"]) == {
        "name",
        "timezone",
        "holidays",
        "llm_base_url",
        "llm_api_key",
        "llm_models",
    }
    assert "sk-own" not in str(entry.payload)


def test_an_empty_key_keeps_the_key_and_remove_takes_it_away(web, workspace):
    web.post(URL, GOOD)
    web.post(URL, {**GOOD, "llm_api_key": ""})
    assert _saved(workspace).llm_api_key == "sk-own-0123456789"

    web.post(URL, {**GOOD, "llm_api_key": "", "llm_api_key_remove": "1"})
    assert _saved(workspace).llm_api_key == ""


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("timezone", "Mars/Olympus", "not a time zone"),
        ("holidays", "2026-12-25\nChristmas", "not a date"),
        ("llm_base_url", "javascript:alert(1)//x", "URL with a host name"),
        ("llm_base_url", "http://user:pw@api.example.com/v1", "no credentials"),
        ("llm_base_url", "http://93.184.216.34/v1", "Use https"),
        ("llm_api_key", "sk-one\r\nX-Injected: 1", "no spaces or line breaks"),
        ("model_drafting", "gpt 4; drop", "not a model name"),
        ("name", "   ", "a name of 1 to 120"),
    ],
)
def test_a_bad_field_saves_nothing_and_says_what_is_wrong(web, workspace, field, value, words):
    before = _saved(workspace)

    response = web.post(URL, {**GOOD, field: value})

    assert response.status_code == 200
    assert words in response.content.decode()
    after = _saved(workspace)
    assert (after.name, after.timezone, after.holidays, after.llm_base_url) == (
        before.name,
        before.timezone,
        before.holidays,
        before.llm_base_url,
    )
    assert (
        not Activity.objects.for_workspace(workspace)
        .filter(type="workspace.settings_changed")
        .exists()
    )


def test_an_endpoint_on_a_private_network_is_refused(web, workspace, settings):
    settings.LLM_ALLOWED_NETWORKS = []

    response = web.post(URL, {**GOOD, "llm_base_url": "http://127.0.0.1:8080/v1"})

    assert "We cannot call that endpoint" in response.content.decode()
    assert _saved(workspace).llm_base_url == ""


def test_a_member_reads_the_settings_and_cannot_change_them(workspace, user_factory):
    person = user_factory()
    MembershipFactory(workspace=workspace, user=person, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(person)

    page = client.get(URL).content.decode()
    response = client.post(URL, GOOD)

    assert "Only owners and admins" in page
    assert "Only owners and admins" in response.content.decode()
    assert _saved(workspace).name == "Acme"
