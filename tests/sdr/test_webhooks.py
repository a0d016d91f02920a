"""Outbound webhooks: signed, in feed order, retried, disabled after a day of failures,
resumed without loss; endpoints vetted like research URLs."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from sdr.activity import Event, activities_record
from sdr.models import WebhookDelivery, WebhookEndpoint
from sdr.tasks import webhooks_pump_task
from sdr.webhooks import endpoint_create, endpoint_deliver, webhooks_fanout
from tests.httpserver import Route

SYNC_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def documented_verify():
    """The verification snippet from the sync guide, exactly as a customer copies it."""
    text = SYNC_GUIDE.read_text()
    code = re.search(r"```python\n(# verify-webhook\n.*?)```", text, re.S)
    assert code, "docs/sync.md has no verification snippet marked '# verify-webhook'"
    namespace: dict = {}
    exec(code.group(1), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def _record(workspace, *types: str, object_id: str = "lead-1"):
    with transaction.atomic():
        activities_record(workspace=workspace, events=[Event(t, "lead", object_id) for t in types])


def _endpoint(workspace, http_server, *, event_types=("lead.*", "outcome.*"), path="/hook"):
    return endpoint_create(
        workspace=workspace, url=http_server.url(path), event_types=list(event_types)
    )


def _pump(endpoint) -> int:
    webhooks_fanout()
    return endpoint_deliver(endpoint.pk)


def _received(http_server, path="/hook"):
    return [seen for seen in http_server.requests if seen.path == path and seen.method == "POST"]


def test_deliveries_arrive_signed_in_feed_order_and_verify_with_the_documented_snippet(
    workspace, http_server
):
    http_server.route("/hook", "ok")
    endpoint = _endpoint(workspace, http_server, event_types=["*"])
    _record(workspace, "lead.created", "lead.updated", "outcome.created")
    assert _pump(endpoint) == 4
    seen = _received(http_server)
    bodies = [json.loads(s.body) for s in seen]
    # With "*", the endpoint first hears of its own registration: a ping that it works.
    assert [b["type"] for b in bodies] == [
        "webhook.created",
        "lead.created",
        "lead.updated",
        "outcome.created",
    ]
    assert [b["id"] for b in bodies] == sorted(b["id"] for b in bodies)
    verify = documented_verify()
    for request in seen:
        assert request.headers["content-type"] == "application/json"
        assert request.headers["sdr-event-id"] == str(json.loads(request.body)["id"])
        assert verify(endpoint.secret, request.headers["sdr-signature"], request.body)
        assert not verify("whsec_other", request.headers["sdr-signature"], request.body)
        assert not verify(endpoint.secret, request.headers["sdr-signature"], request.body + b" ")
    # Nothing is sent twice.
    assert _pump(endpoint) == 0
    assert len(_received(http_server)) == 4


def test_an_endpoint_hears_only_the_types_it_asked_for_and_only_from_its_creation(
    workspace, http_server
):
    http_server.route("/hook", "ok")
    _record(workspace, "reply.received")  # before the endpoint existed
    endpoint = _endpoint(workspace, http_server, event_types=["reply.*", "outcome.created"])
    _record(workspace, "lead.updated", "reply.classified", "outcome.created", "enrollment.stopped")
    _pump(endpoint)
    types = [json.loads(s.body)["type"] for s in _received(http_server)]
    assert types == ["reply.classified", "outcome.created"]


def test_a_failing_delivery_is_retried_with_backoff_and_holds_the_later_ones(
    workspace, http_server
):
    answers = iter([Route(status=500, body=b"boom")])
    http_server.handler("/hook", lambda seen: next(answers, Route(body=b"ok")))
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created", "lead.updated")
    assert _pump(endpoint) == 0  # the first failed; the second waits behind it
    first, second = WebhookDelivery.objects.for_workspace(workspace).order_by("seq")
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    assert first.next_attempt_at > timezone.now()
    assert first.log[-1]["response"] == "boom"
    assert second.attempts == 0
    assert _pump(endpoint) == 0  # still backing off: not even tried
    assert len(_received(http_server)) == 1
    WebhookDelivery.objects.for_workspace(workspace).filter(pk=first.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert _pump(endpoint) == 2
    types = [json.loads(s.body)["type"] for s in _received(http_server)]
    assert types == ["lead.created", "lead.created", "lead.updated"]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_timeout_is_a_failed_attempt_with_a_plain_reason(workspace, http_server, settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    http_server.route("/hook", "late", delay=1.5)
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    assert _pump(endpoint) == 0
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()
    assert delivery.last_error == "No answer within 0.3 s."
    assert delivery.status == "pending"


def test_after_a_day_of_failures_the_endpoint_is_disabled_the_owners_told_and_nothing_lost(
    workspace, http_server, mailoutbox, user_factory, django_capture_on_commit_callbacks
):
    from sdr.models import Membership

    owner = user_factory(email="owner@acme.example")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    http_server.route("/hook", "down", status=503)
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created", "lead.updated")
    _pump(endpoint)
    a_day_ago = timezone.now() - timedelta(days=1, minutes=1)
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=endpoint.pk).update(
        failing_since=a_day_ago
    )
    WebhookDelivery.objects.for_workspace(workspace).update(next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        _pump(endpoint)
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    assert "503" in endpoint.disabled_reason
    assert [m.to for m in mailoutbox] == [["owner@acme.example"]]
    assert endpoint.url in mailoutbox[0].body
    # A disabled endpoint gets nothing, not even new events.
    _record(workspace, "outcome.created")
    assert _pump(endpoint) == 0

    http_server.route("/hook", "ok")
    from sdr.webhooks import endpoint_update

    endpoint_update(endpoint, status=WebhookEndpoint.Status.ACTIVE)
    assert _pump(endpoint) == 3
    delivered = [json.loads(s.body)["type"] for s in _received(http_server) if s.body]
    assert delivered[-3:] == ["lead.created", "lead.updated", "outcome.created"]


def test_a_delivery_left_by_a_dead_worker_is_sent_when_its_lease_runs_out(workspace, http_server):
    http_server.route("/hook", "ok")
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    webhooks_fanout()
    # A worker took the endpoint and died before sending: its lease holds others off...
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=endpoint.pk).update(
        sending_until=timezone.now() + timedelta(minutes=1)
    )
    assert endpoint_deliver(endpoint.pk) == 0
    # ...until it runs out.
    WebhookEndpoint.objects.for_workspace(workspace).filter(pk=endpoint.pk).update(
        sending_until=timezone.now() - timedelta(seconds=1)
    )
    assert endpoint_deliver(endpoint.pk) == 1


def test_the_pump_task_cuts_and_sends(workspace, http_server):
    http_server.route("/hook", "ok")
    _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    report = webhooks_pump_task()  # eager in tests: the deliver task runs inline
    # The neighbour workspace's endpoint takes part too (its host does not resolve).
    assert report["cut"] >= 1 and report["endpoints"] >= 1
    assert [json.loads(s.body)["type"] for s in _received(http_server)] == ["lead.created"]


def test_an_endpoint_whose_host_turned_private_is_refused_at_delivery(
    workspace, http_server, settings
):
    http_server.route("/hook", "ok")
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert _pump(endpoint) == 0
    delivery = WebhookDelivery.objects.for_workspace(workspace).get()
    assert delivery.last_error.startswith("Refused: ")
    assert _received(http_server) == []


# --- the API -----------------------------------------------------------------------------


def test_the_api_creates_an_endpoint_and_shows_its_secret_once(api, http_server):
    response = api.post(
        "/api/v1/webhooks/",
        {"url": http_server.url("/hook"), "event_types": ["reply.*"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    again = api.get(f"/api/v1/webhooks/{body['id']}/").json()
    assert "secret" not in again
    assert again["event_types"] == ["reply.*"]
    rotated = api.post(f"/api/v1/webhooks/{body['id']}/rotate-secret/").json()
    assert rotated["secret"] != body["secret"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "javascript:alert(1)//x.example", "event_types": ["*"]}, "url"),
        ({"url": "ftp://crm.example/hook", "event_types": ["*"]}, "url"),
        ({"url": "https://user:pw@crm.example/hook", "event_types": ["*"]}, "url"),
        ({"url": "https://crm.example/hook", "event_types": []}, "event_types"),
        ({"url": "https://crm.example/hook", "event_types": ["DROP TABLE"]}, "event_types"),
        ({"url": "https://crm.example/hook", "event_types": "reply.*"}, "event_types"),
    ],
)
def test_bad_endpoints_get_a_clear_400(api, payload, field):
    response = api.post("/api/v1/webhooks/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]


def test_private_addresses_are_refused_outside_development(api, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    for url in ("http://127.0.0.1:9/hook", "http://[::1]/hook", "http://10.0.0.5/hook"):
        response = api.post("/api/v1/webhooks/", {"url": url, "event_types": ["*"]}, format="json")
        assert response.status_code == 400, url
        assert "not a public address" in response.json()["error"]["message"]


def test_https_is_required_when_asked(api, settings, http_server):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    response = api.post(
        "/api/v1/webhooks/", {"url": http_server.url("/hook"), "event_types": ["*"]}, format="json"
    )
    assert response.status_code == 400
    assert "https" in response.json()["error"]["message"]


def test_members_read_endpoints_but_only_managers_change_them(web, member, workspace, http_server):
    from sdr.models import Membership

    Membership.objects.filter(workspace=workspace, user=member).update(role="member")
    endpoint = _endpoint(workspace, http_server)
    assert web.get("/api/v1/webhooks/").status_code == 200
    response = web.patch(
        f"/api/v1/webhooks/{endpoint.pk}/",
        {"description": "mine"},
        content_type="application/json",
    )
    assert response.status_code == 403


def test_deliveries_are_listed_with_their_attempts(api, workspace, http_server):
    http_server.route("/hook", "nope", status=410)
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    _pump(endpoint)
    page = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()
    (delivery,) = page["results"]
    assert delivery["status"] == "pending"
    assert delivery["last_status_code"] == 410
    assert delivery["log"][0]["response"] == "nope"


def test_the_schema_documents_the_delivery_and_a_real_one_matches_it(
    client, workspace, http_server
):
    import jsonschema

    document = client.get("/api/schema/?format=json").json()
    delivery = document["x-webhooks"]["activity"]["post"]
    headers = {p["name"]: p for p in delivery["parameters"]}
    assert set(headers) == {"SDR-Signature", "SDR-Event-Id", "SDR-Event-Type"}
    body_schema = delivery["requestBody"]["content"]["application/json"]["schema"]

    http_server.route("/hook", "ok")
    endpoint = _endpoint(workspace, http_server)
    _record(workspace, "lead.created")
    _pump(endpoint)
    (seen,) = _received(http_server)
    jsonschema.validate(
        json.loads(seen.body), {**body_schema, "components": document["components"]}
    )
    assert re.fullmatch(
        headers["SDR-Signature"]["schema"]["pattern"], seen.headers["sdr-signature"]
    )
