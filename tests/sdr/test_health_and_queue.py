"""/healthz and the Celery app: queues, routing, and a real worker over a real broker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from sdr.celery import app

REDIS_URL = "redis://127.0.0.1:6379/15"
BROKER_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def forget_broker_connections() -> None:
    """Forget the app's connection pools, made for whichever broker an earlier test used
    (kombu keeps the pools themselves, one per broker URL, for reuse)."""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings):
    """`broker(url)` sends tasks to that broker instead of running them eagerly; `broker()`
    goes back to eager. Eager again after the test in any case."""
    original = app.conf.broker_url

    def use(url: str | None = None) -> None:
        settings.CELERY_TASK_ALWAYS_EAGER = url is None
        forget_broker_connections()
        app.conf.update(broker_url=url or original, task_always_eager=url is None)

    yield use
    use()


def test_healthz_reports_database_and_eager_mode(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"status": "ok", "vendor": "postgresql"}
    assert body["checks"]["broker"]["mode"].startswith("eager")


@pytest.mark.broker
def test_healthz_reports_a_reachable_broker(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = REDIS_URL
    try:
        body = client.get("/healthz").json()
    finally:
        app.conf.broker_url = None
    assert body["checks"]["broker"] == {"status": "ok", "transport": "redis"}


def test_healthz_answers_503_when_the_broker_is_down(client, db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTHZ_BROKER_TIMEOUT = 0.2
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "down"


def test_tasks_are_routed_to_the_queue_of_their_kind():
    router = app.amqp.router
    for name, queue in [
        ("enrich.company", "enrich"),
        ("ingest.import_leads", "ingest"),
        ("sdr.clear_expired_sessions", "default"),
    ]:
        route = router.route({}, name)
        assert route["queue"].name == queue, name


def test_the_queue_settings_make_redelivery_safe():
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert {q.name for q in app.conf.task_queues} == {
        "default",
        "enrich",
        "enrich_now",
        "draft",
        "send",
        "ingest",
        "billing",
    }


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_sent_through_redis(settings):
    from celery.contrib.testing.worker import start_worker

    from sdr.tasks import clear_expired_sessions_task

    Session.objects.create(
        session_key="expired", session_data="", expire_date=timezone.now() - timedelta(days=1)
    )
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10
        ):
            # An explicit connection: the app's producer pool may have been made for the
            # default broker by an earlier test.
            with app.connection_for_write(REDIS_URL) as connection:
                clear_expired_sessions_task.apply_async(connection=connection)
            # The worker is another thread with its own connection: wait for its commit.
            for _ in range(300):
                if not Session.objects.filter(session_key="expired").exists():
                    break
                time.sleep(0.1)
    finally:
        app.conf.update(broker_url=None, task_always_eager=True)
    assert not Session.objects.filter(session_key="expired").exists()


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_research_a_person_asked_for_goes_ahead_of_an_import_s_backlog(workspace, broker):
    """An import queues research of every new company; "Enrich now" on one has its own
    queue, which the research workers read too, so it is not taken after thousands."""
    import redis

    from leads.enrichment import companies_enqueue_enrichment, company_enrich_request
    from tests.factories import CompanyFactory

    backlog = [CompanyFactory(workspace=workspace) for _ in range(3)]
    asked = CompanyFactory(workspace=workspace)
    lists = redis.Redis.from_url(REDIS_URL)
    lists.delete("enrich", "enrich_now")
    broker(REDIS_URL)
    try:
        companies_enqueue_enrichment(workspace=workspace, company_ids=[c.pk for c in backlog])
        company_enrich_request(company=asked)
        assert (lists.llen("enrich"), lists.llen("enrich_now")) == (3, 1)
        assert str(asked.pk) in lists.lindex("enrich_now", 0).decode()
    finally:
        lists.delete("enrich", "enrich_now")


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_many_hints_go_as_one_message_that_a_worker_of_their_queue_sends(workspace, broker):
    """Queueing the research of an import's hundreds of companies publishes one message to
    the research queue; the research worker that takes it sends a hint per company there."""
    import base64
    import json

    import redis

    from leads.enrichment import companies_enqueue_enrichment
    from sdr.queue import FAN_OUT_FROM
    from sdr.tasks import hints_send_task
    from tests.factories import CompanyFactory

    companies = CompanyFactory.create_batch(FAN_OUT_FROM + 10, workspace=workspace)
    lists = redis.Redis.from_url(REDIS_URL)
    lists.delete("enrich")
    broker(REDIS_URL)
    try:
        companies_enqueue_enrichment(workspace=workspace, company_ids=[c.pk for c in companies])
        (handed,) = [json.loads(m) for m in lists.lrange("enrich", 0, -1)]
        assert handed["headers"]["task"] == "sdr.send_hints"
        args, _, _ = json.loads(base64.b64decode(handed["body"]))
        lists.delete("enrich")

        assert hints_send_task(*args) == len(companies)  # as the worker runs it

        sent = [json.loads(m)["headers"] for m in lists.lrange("enrich", 0, -1)]
        assert {h["task"] for h in sent} == {"enrich.company"}
        assert sorted(h["argsrepr"] for h in sent) == sorted(f"('{c.pk}',)" for c in companies)
    finally:
        lists.delete("enrich")


# --- a broker outage delays work and never strands it ---------------------------------


def long_ago(model, pk) -> None:
    """Minutes pass: a queued row's hint is now presumed lost."""
    model.unscoped_objects.filter(pk=pk).update(updated_at=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_new_company_is_saved_queued_and_researched_later(
    api, workspace, broker, http_server, settings
):
    from leads.models import Company
    from sdr.states import sweep

    settings.FETCH_POLITENESS_DELAY = 0
    http_server.route("/", "<html><head><title>Acme Robotics</title></head><body>Hi</body></html>")
    broker(BROKER_DOWN)
    response = api.post(
        "/api/v1/companies/",
        {"domain": "acme-robotics.example", "website": http_server.url("/")},
        format="json",
    )
    assert response.status_code == 201, response.content
    company = Company.objects.for_workspace(workspace).get(domain="acme-robotics.example")
    assert company.enrich_status == Company.EnrichStatus.QUEUED

    broker()  # back, eager: the sweeper's hint runs the research in this process
    sweep()
    assert Company.objects.for_workspace(workspace).get(pk=company.pk).enrich_status == "queued"
    long_ago(Company, company.pk)
    assert sweep().requeued.get("company") == 1
    company.refresh_from_db()
    assert company.enrich_status == Company.EnrichStatus.DONE, company.enrich_error


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_an_import_starts_queued_and_runs_later(api, workspace, broker):
    from leads.importing import import_job_create
    from leads.models import ImportJob
    from sdr.states import sweep
    from tests.leads.test_import import CSV, upload

    job = import_job_create(workspace=workspace, uploaded_file=upload(CSV), user=None)
    broker(BROKER_DOWN)
    response = api.post(f"/api/v1/imports/{job.pk}/start/", {}, format="json")
    assert response.status_code == 202, response.content
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED

    broker()
    long_ago(ImportJob, job.pk)
    sweep()
    job.refresh_from_db()
    assert (job.status, job.done_rows, job.created_count) == (ImportJob.Status.DONE, 4, 3)


def test_a_refused_hint_stops_the_batch_and_leaves_the_rest_to_the_sweeper(db, broker):
    from leads.tasks import enrich_company_task
    from sdr.queue import hint_each

    broker(BROKER_DOWN)
    # One refusal costs the publisher's retries; a thousand would hold a request for minutes.
    assert hint_each(enrich_company_task, ["a", "b", "c"]) == 0


def test_a_refused_fan_out_is_logged_by_its_first_ids_only(db, broker, caplog):
    from leads.tasks import enrich_company_task
    from sdr.queue import FAN_OUT_CHUNK, hint_each

    ids = [f"company-{n:04}" for n in range(FAN_OUT_CHUNK * 2)]
    broker(BROKER_DOWN)
    with caplog.at_level("WARNING", logger="sdr.queue"):
        assert hint_each(enrich_company_task, ids) == 0
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sdr.queue"]
    assert "sdr.send_hints" in line and "company-0000" in line
    assert "company-0003" not in line  # not a thousand ids in one log line
