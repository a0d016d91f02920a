"""The activity log and the change feed: complete, ordered, resumable under concurrent writes."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import close_old_connections, connection, transaction
from rest_framework.test import APIClient

from sdr import services
from sdr.activity import (
    _PUBLISH_LOCK,
    Actor,
    Event,
    acting_as,
    activities_record,
    activity_feed,
)
from sdr.models import Activity
from tests.factories import WorkspaceFactory


def _feed(api, after=0, **params):
    response = api.get("/api/v1/activities/", {"after": after, **params})
    assert response.status_code == 200, response.content
    return response.json()


def _record(workspace, n=1, type="lead.updated"):
    with transaction.atomic():
        return activities_record(
            workspace=workspace, events=[Event(type, "lead", f"lead-{i}") for i in range(n)]
        )


def test_the_feed_lists_activities_after_the_cursor_in_ascending_order(api, workspace):
    _record(workspace, 5)
    # The API key's own creation is in the feed too (an audit entry); start after it.
    start = _feed(api, type="api_key.created")["last_id"]
    first = _feed(api, after=start, limit=3)
    assert [item["type"] for item in first["results"]] == ["lead.updated"] * 3
    ids = [item["id"] for item in first["results"]]
    assert ids == sorted(ids)
    assert first["has_more"] is True
    rest = _feed(api, after=first["last_id"], limit=3)
    assert len(rest["results"]) == 2
    assert rest["has_more"] is False
    assert rest["results"][0]["id"] > ids[-1]
    item = rest["results"][0]
    assert set(item) >= {"id", "type", "occurred_at", "object_type", "object_id", "payload"}


def test_an_empty_page_keeps_the_cursor(api, workspace):
    _record(workspace, 2)
    last = _feed(api)["last_id"]
    again = _feed(api, after=last)
    assert again == {"results": [], "last_id": last, "has_more": False}


def test_the_feed_filters_by_type_and_object(api, workspace):
    _record(workspace, 2, type="lead.updated")
    _record(workspace, 1, type="company.created")
    assert {i["type"] for i in _feed(api, type="company.created")["results"]} == {"company.created"}
    only = _feed(api, object_type="lead", object_id="lead-1")["results"]
    assert [i["object_id"] for i in only] == ["lead-1"]


@pytest.mark.parametrize(
    "bad", [{"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"limit": "5000"}]
)
def test_bad_feed_parameters_get_a_clear_400(api, workspace, bad):
    response = api.get("/api/v1/activities/", bad)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_a_lead_created_through_each_path_is_one_lead_created_activity(api, web, workspace):
    api.post("/api/v1/leads/", {"email": "one@acme.example"}, format="json")
    api.post(
        "/api/v1/leads/bulk-upsert/",
        {"leads": [{"email": "two@acme.example"}, {"email": "three@acme.example"}]},
        format="json",
    )
    web.post("/leads/new/", {"email": "four@acme.example", "first_name": "Four"})
    created = [i for i in _feed(api)["results"] if i["type"] == "lead.created"]
    from leads.models import Lead

    leads = Lead.objects.for_workspace(workspace)
    assert sorted(i["object_id"] for i in created) == sorted(
        str(pk) for pk in leads.values_list("pk", flat=True)
    )
    assert all(i["object_type"] == "lead" for i in created)
    assert len(created) == 4


def test_csv_import_and_enrichment_write_lead_created_too(api, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leads.extraction import ExtractedPerson, PageExtraction
    from leads.importing import import_job_create, import_job_run, import_job_start
    from tests.factories import CompanyFactory

    csv = SimpleUploadedFile("l.csv", b"email,first_name\na@acme.example,A\nb@acme.example,B\n")
    job = import_job_create(workspace=workspace, uploaded_file=csv, user=None)
    job = import_job_start(job=job, mapping={"email": "email", "first_name": "first_name"})
    import_job_run(job_id=str(job.pk))
    company = CompanyFactory(workspace=workspace)
    from leads.enrichment import people_record

    person = ExtractedPerson(
        name="Ana Lima", title="CTO", linkedin_url="", email="", evidence="Ana Lima, CTO"
    )
    page = PageExtraction(
        url="https://company.example/team",
        page_kind="team",
        values=[],
        signals=[],
        people=[person],
        links={},
        warnings=[],
    )
    with transaction.atomic():
        found = people_record(company=company, extractions=[page])
    created = _feed(api, type="lead.created")["results"]
    sources = sorted(i["payload"]["source"] for i in created)
    assert sources == ["csv", "csv", "enrichment"]
    assert str(found[0].pk) in {i["object_id"] for i in created}


def test_the_actor_is_the_api_key_or_the_person(api, web, workspace, member):
    api.post("/api/v1/leads/", {"email": "key@acme.example"}, format="json")
    web.post("/leads/new/", {"email": "person@acme.example"})
    actors = [
        (i["actor"]["type"], i["actor"]["label"])
        for i in _feed(api, type="lead.created")["results"]
    ]
    assert actors[0] == ("api_key", "API key CRM")
    assert actors[1] == ("user", member.get_username())


def test_writes_outside_a_request_are_the_systems_and_acting_as_overrides_it(workspace):
    _record(workspace)
    with acting_as(Actor("user", "7", "dana")):
        _record(workspace)
    types = list(
        Activity.objects.for_workspace(workspace)
        .order_by("id")
        .values_list("actor_type", "actor_label")
    )
    assert types == [("system", "system"), ("user", "dana")]


def test_an_activity_rolls_back_with_its_change(workspace):
    with pytest.raises(RuntimeError), transaction.atomic():
        _record(workspace)
        raise RuntimeError("the change failed")
    assert not Activity.objects.for_workspace(workspace).exists()


def test_a_workspace_sees_only_its_own_activities(api, workspace, other_workspace):
    _record(other_workspace, 3)
    _record(workspace, 1)
    results = _feed(api, type="lead.updated")["results"]
    assert len(results) == 1


def test_each_workspace_reads_its_feed_while_the_other_has_published(
    api, workspace, other_workspace
):
    """Feed positions are numbered across all workspaces: a read by one workspace, whose
    row-level security hides the other's rows, still numbers its rows after the other's."""
    _, other_key = services.api_key_create(workspace=other_workspace, name="CRM", scopes=["read"])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    _record(other_workspace, 3)
    theirs = _feed(other, type="lead.updated")["results"]
    _record(workspace, 2)
    ours = _feed(api, type="lead.updated")["results"]
    _record(other_workspace, 1)
    theirs += _feed(other, after=theirs[-1]["id"], type="lead.updated")["results"]

    assert (len(ours), len(theirs)) == (2, 4)
    positions = [row["id"] for row in ours + theirs]
    assert len(set(positions)) == len(positions)
    assert min(row["id"] for row in ours) > max(row["id"] for row in theirs[:3])


# --- concurrency: ids committed out of order -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_late_commit_is_not_skipped_by_a_reader_that_saw_a_later_one():
    workspace = WorkspaceFactory()
    inserted, release = threading.Event(), threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                activities_record(
                    workspace=workspace, events=[Event("lead.updated", "lead", "slow")]
                )
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(10)
    # A quick write commits after the slow one took its key, and before it commits.
    with transaction.atomic():
        activities_record(workspace=workspace, events=[Event("lead.updated", "lead", "quick")])
    first = activity_feed(workspace=workspace, after=0)
    assert [a.object_id for a in first] == ["quick"]
    release.set()
    thread.join(10)
    second = activity_feed(workspace=workspace, after=first[-1].seq)
    assert [a.object_id for a in second] == ["slow"]


@pytest.mark.django_db(transaction=True)
def test_the_feed_is_complete_and_never_repeats_under_concurrent_writers():
    workspace = WorkspaceFactory()
    writers, per_writer = 6, 25
    done = threading.Event()
    seen: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            for i in range(per_writer):
                with transaction.atomic():
                    activities_record(
                        workspace=workspace,
                        events=[Event("lead.updated", "lead", f"w{n}-{i}")],
                    )
                    # Hold some transactions open so keys commit out of order.
                    if rng.random() < 0.3:
                        threading.Event().wait(rng.random() / 100)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    def reader() -> None:
        after = 0
        try:
            while True:
                finished = done.is_set()
                page = activity_feed(workspace=workspace, after=after, limit=50)
                seen.extend((a.seq, a.object_id) for a in page)
                if page:
                    after = page[-1].seq
                elif finished:
                    return
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    read = threading.Thread(target=reader)
    read.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    read.join(60)
    close_old_connections()
    assert not errors, errors
    ids = [seq for seq, _ in seen]
    assert ids == sorted(ids), "the feed went backwards"
    objects = [object_id for _, object_id in seen]
    assert len(objects) == len(set(objects)), "an event was seen twice"
    expected = {f"w{n}-{i}" for n in range(writers) for i in range(per_writer)}
    assert set(objects) == expected, f"missed {len(expected - set(objects))} events"


@pytest.mark.django_db(transaction=True)
def test_a_reader_with_nothing_to_publish_does_not_wait_for_the_publish_lock():
    # Every feed read publishes first; with nothing pending it must not queue behind the
    # one global lock, or concurrent readers are served one at a time.
    if connection.vendor != "postgresql":
        pytest.skip("the publish lock is PostgreSQL's advisory lock")
    workspace = WorkspaceFactory()
    activities_record(workspace=workspace, events=[Event("lead.updated", "lead", "a")])
    assert [a.object_id for a in activity_feed(workspace=workspace)] == ["a"]
    holding, release = threading.Event(), threading.Event()

    def publisher() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PUBLISH_LOCK])
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            page = activity_feed(workspace=workspace)
    finally:
        release.set()
        thread.join(10)
    assert [a.object_id for a in page] == ["a"]


def test_lead_payloads_carry_no_address(api, workspace):
    api.post("/api/v1/leads/", {"email": "private@acme.example"}, format="json")
    body = str(_feed(api)["results"])
    assert "private@acme.example" not in body
