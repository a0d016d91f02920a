"""A CRM sync job as docs/sync.md describes it: several threads push 5,000 leads in bulk
while another follows the change feed; it sees every lead created exactly once, in
order, and nothing else is missed or repeated."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from leads.models import Lead
from sdr import services
from tests.factories import WorkspaceFactory

PUSHERS = 5
BATCHES = 4
BATCH = 250  # 5 x 4 x 250 = 5,000 leads


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _get(client: APIClient, path: str, params: dict) -> dict:
    """A GET that waits out a 429 the way the guide says."""
    while True:
        response = client.get(path, params)
        if response.status_code == 429:
            time.sleep(int(response["Retry-After"]))
            continue
        assert response.status_code == 200, response.content
        return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_sync_job_following_the_feed_sees_every_pushed_lead_once(settings):
    settings.API_RATE_PER_MINUTE = 100_000  # the sync's own pace is what is tested here
    workspace = WorkspaceFactory(slug="sync")
    _, key = services.api_key_create(workspace=workspace, name="CRM")
    pushed_ids: list[str] = []
    seen: list[tuple[int, str, str]] = []
    errors: list[BaseException] = []
    pushing_done = threading.Event()

    def push(n: int) -> None:
        client = _client(key)
        try:
            for b in range(BATCHES):
                rows = [
                    {
                        "email": f"p{n}-b{b}-{i}@company{i % 40}.example",
                        "external_id": f"crm-{n}-{b}-{i}",
                        "first_name": f"P{n}",
                    }
                    for i in range(BATCH)
                ]
                response = client.post(
                    "/api/v1/leads/bulk-upsert/",
                    {"leads": rows},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=f"push-{n}-{b}",
                )
                assert response.status_code == 200, response.content
                body = response.json()
                assert body["created"] == BATCH and not body["errors"], body
                pushed_ids.extend(body["lead_ids"])
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    def follow() -> None:
        client = _client(key)
        after = 0
        try:
            while True:
                finished = pushing_done.is_set()
                page = _get(client, "/api/v1/activities/", {"after": after, "limit": 500})
                seen.extend(
                    (event["id"], event["type"], event["object_id"]) for event in page["results"]
                )
                after = page["last_id"]
                if finished and not page["has_more"]:
                    return
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    follower = threading.Thread(target=follow)
    follower.start()
    pushers = [threading.Thread(target=push, args=(n,)) for n in range(PUSHERS)]
    for thread in pushers:
        thread.start()
    for thread in pushers:
        thread.join(300)
    pushing_done.set()
    follower.join(300)
    close_old_connections()

    assert not errors, errors
    ids = [event_id for event_id, _, _ in seen]
    assert ids == sorted(ids) and len(ids) == len(set(ids)), "the feed repeated or went back"
    created = [object_id for _, kind, object_id in seen if kind == "lead.created"]
    assert len(created) == len(set(created)) == PUSHERS * BATCHES * BATCH
    assert set(created) == set(pushed_ids)
    assert Lead.objects.for_workspace(workspace).count() == PUSHERS * BATCHES * BATCH
