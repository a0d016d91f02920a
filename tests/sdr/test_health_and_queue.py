"""/healthz and the Celery app: queues, routing, and a real worker over a real broker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from sdr.celery import app

REDIS_URL = "redis://127.0.0.1:6379/15"


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
