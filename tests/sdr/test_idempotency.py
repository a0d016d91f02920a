"""Idempotency-Key: a repeated POST gets the first answer and does nothing twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone
from rest_framework.test import APIClient

from leads.models import ImportJob, Lead
from sdr import services
from sdr.idempotency import idempotency_records_expire
from sdr.models import IdempotencyRecord
from tests.factories import WorkspaceFactory
from tests.leads.test_import import CSV, upload

LEAD = {"email": "dana@northwind.example", "first_name": "Dana"}


def _post(api, path, body, key, **kwargs):
    return api.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **kwargs)


def test_a_repeat_gets_the_first_answer_and_creates_nothing_more(api, workspace):
    first = _post(api, "/api/v1/leads/", LEAD, "create-dana")
    assert first.status_code == 201, first.content
    again = _post(api, "/api/v1/leads/", LEAD, "create-dana")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Lead.objects.for_workspace(workspace).filter(email=LEAD["email"]).count() == 1


def test_the_same_key_with_another_body_is_a_422(api):
    assert _post(api, "/api/v1/leads/", LEAD, "k1").status_code == 201
    other = _post(api, "/api/v1/leads/", {**LEAD, "first_name": "Robin"}, "k1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    # ...and on another path too.
    assert _post(api, "/api/v1/companies/", {"domain": "x.example"}, "k1").status_code == 422


def test_a_validation_error_is_an_answer_and_is_replayed(api, workspace):
    bad = {"email": "not-an-email"}
    first = _post(api, "/api/v1/leads/", bad, "bad-1")
    assert first.status_code == 400
    assert _post(api, "/api/v1/leads/", bad, "bad-1").content == first.content


def test_keys_belong_to_one_api_key(api, workspace):
    _, other_key = services.api_key_create(workspace=workspace, name="Other CRM")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    assert _post(api, "/api/v1/leads/", LEAD, "shared").status_code == 201
    # The same key from another API key is another request, not a reuse.
    response = _post(other, "/api/v1/leads/", {**LEAD, "email": "dee@northwind.example"}, "shared")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


def test_without_credentials_nothing_is_kept(client, db):
    response = client.post(
        "/api/v1/leads/", LEAD, content_type="application/json", HTTP_IDEMPOTENCY_KEY="anon"
    )
    assert response.status_code in (401, 403)
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_a_malformed_key_is_a_400(api, key):
    response = _post(api, "/api/v1/leads/", LEAD, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["message"]


def test_gets_and_posts_without_a_key_are_untouched(api):
    assert api.get("/api/v1/leads/", HTTP_IDEMPOTENCY_KEY="k").status_code == 200
    assert api.post("/api/v1/leads/", LEAD, format="json").status_code == 201
    assert not IdempotencyRecord.objects.exists()


def test_an_upload_repeated_with_its_key_is_one_import(api, workspace):
    first = api.post(
        "/api/v1/imports/", {"file": upload(CSV)}, format="multipart", HTTP_IDEMPOTENCY_KEY="u1"
    )
    assert first.status_code == 201, first.content
    again = api.post(
        "/api/v1/imports/", {"file": upload(CSV)}, format="multipart", HTTP_IDEMPOTENCY_KEY="u1"
    )
    assert again.content == first.content
    assert ImportJob.objects.for_workspace(workspace).count() == 1
    changed = api.post(
        "/api/v1/imports/",
        {"file": upload(CSV + "x@y.example,X,Y,,,,\n")},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="u1",
    )
    assert changed.status_code == 422


def test_a_request_still_running_answers_409_and_a_stale_one_is_taken_over(api, workspace):
    assert _post(api, "/api/v1/leads/", LEAD, "slow").status_code == 201
    record = IdempotencyRecord.objects.get(key="slow")
    # As if the first request were still running...
    IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=None)
    busy = _post(api, "/api/v1/leads/", LEAD, "slow")
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    # ...or its worker had died before the work: past the stale limit, a repeat runs it.
    Lead.objects.for_workspace(workspace).filter(email=LEAD["email"]).delete()
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    taken_over = _post(api, "/api/v1/leads/", LEAD, "slow")
    assert taken_over.status_code == 201, taken_over.content
    assert "Idempotent-Replayed" not in taken_over
    assert _post(api, "/api/v1/leads/", LEAD, "slow")["Idempotent-Replayed"] == "true"


def test_records_are_kept_a_day_at_least_then_expire(api, settings):
    _post(api, "/api/v1/leads/", LEAD, "old")
    _post(api, "/api/v1/leads/", {**LEAD, "email": "robin@northwind.example"}, "new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS, minutes=1)
    )
    assert settings.IDEMPOTENCY_TTL_HOURS >= 24
    assert idempotency_records_expire() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_repeats_do_the_work_once():
    workspace = WorkspaceFactory(slug="idem")
    _, key = services.api_key_create(workspace=workspace, name="CRM")
    answers: list[int] = []
    start = threading.Barrier(6)

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        start.wait()
        try:
            answers.append(_post(client, "/api/v1/leads/", LEAD, "race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    close_old_connections()
    assert Lead.objects.for_workspace(workspace).count() == 1
    assert answers.count(201) >= 1
    assert set(answers) <= {201, 409}
