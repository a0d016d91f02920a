"""A real Celery worker keeps its PostgreSQL connections from one task to the next, as the
web keeps them from one request to the next (CONN_MAX_AGE, health checks), and a
connection that died between two tasks is opened again without failing the task.

Celery's Django fixup closes every connection before and after each task unless told
otherwise, so each task paid for a new PostgreSQL session: a process forked on the server,
authentication, the row-level security scope set again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connection

from leads.models import Lead
from ranking.tasks import leads_score_task
from sdr import rls
from tests.celery_broker import isolated_redis_broker, worker_process
from tests.factories import LeadFactory

BROKER = "redis://127.0.0.1:6379/13"
THREADS = 2
# The worker's sessions, named through libpq's environment: the test ends those and no other.
APP_NAME = "sdr-test-worker"
# The worker: this project's Celery app on the default queue (where scoring goes), with
# the test's own key prefix in Redis; it prints a line for each database connection it opens.
WORKER_MAIN = """
import sys

import django

django.setup()
from django.db.backends.signals import connection_created

from sdr.celery import app

connection_created.connect(
    lambda **kwargs: print("CONNECTION OPENED", flush=True), weak=False
)
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "global_keyprefix": sys.argv[1]
}
app.worker_main(["worker", "-P", "threads", "-c", sys.argv[2], "-Q", "default", "-l", "info",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


@pytest.fixture
def broker(settings):
    with isolated_redis_broker(settings, BROKER) as prefix:
        yield prefix


@pytest.fixture
def worker(broker, tmp_path):
    log = tmp_path / "worker.log"
    process = worker_process(
        WORKER_MAIN, broker, str(THREADS), broker_url=BROKER, log=log, PGAPPNAME=APP_NAME
    )
    try:
        yield log
    finally:
        process.kill()
        process.wait()


def score_each(workspace, leads) -> None:
    """One scoring task per lead, through the broker; returns when every lead is scored."""
    Lead.unscoped_objects.filter(pk__in=[lead.pk for lead in leads]).update(scored_at=None)
    for lead in leads:
        leads_score_task.delay(str(workspace.pk), [str(lead.pk)])
    scored = Lead.unscoped_objects.filter(
        pk__in=[lead.pk for lead in leads], scored_at__isnull=False
    )
    deadline = time.monotonic() + 120  # turns a hang into a failure; not what is measured
    while scored.count() < len(leads):
        assert time.monotonic() < deadline, f"{scored.count()} of {len(leads)} scored"
        time.sleep(0.05)


def opened(log: Path) -> int:
    return log.read_text().count("CONNECTION OPENED")


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_connections_from_task_to_task(workspace, worker):
    leads = LeadFactory.create_batch(40, workspace=workspace)

    score_each(workspace, leads)

    assert "raised unexpected" not in worker.read_text()
    # Forty tasks, a session per thread at most: each thread goes on with the one it has.
    assert 1 <= opened(worker) <= THREADS, worker.read_text()[-3000:]


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_connection_that_died_between_tasks_is_opened_again_and_no_task_fails(workspace, worker):
    leads = LeadFactory.create_batch(10, workspace=workspace)
    score_each(workspace, leads)
    before = opened(worker)
    # As a database restart or an idle timeout would; as the login role, which may.
    with rls.owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        )
        assert cursor.fetchone()[0] >= 1

    score_each(workspace, leads)

    text = worker.read_text()
    assert "raised unexpected" not in text, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert before < opened(worker) <= before + THREADS
