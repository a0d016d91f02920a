"""The sweeper: rows whose worker died go back to work (or to a person), and queued rows
whose hint the broker lost are sent again. Each expiry is in the activity log."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from leads.models import Company, ImportJob
from outreach.models import Message
from sdr.celery import app
from sdr.models import Activity
from sdr.states import claim, machine_for, sweep
from tests.celery_broker import isolated_redis_broker, worker_process
from tests.factories import CompanyFactory, ImportJobFactory, MessageFactory

LEASE = timedelta(minutes=5)
QUEUED, RUNNING, FAILED = (
    Company.EnrichStatus.QUEUED,
    Company.EnrichStatus.RUNNING,
    Company.EnrichStatus.FAILED,
)


@pytest.fixture
def started(monkeypatch):
    """What the sweeper hands the broker, per kind of row, instead of running the tasks."""
    sent: dict[str, list] = {}

    def recorder(kind):
        return lambda ids: sent.setdefault(kind, []).extend(ids)

    for model in (Company, ImportJob, Message):
        machine = machine_for(model)
        monkeypatch.setattr(machine, "start", recorder(machine.object_type))
    return sent


def expire(row) -> None:
    type(row).unscoped_objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def lease_expired_activities(row, object_type):
    return list(
        Activity.unscoped_objects.filter(
            type=f"{object_type}.lease_expired", object_id=str(row.pk)
        ).order_by("id")
    )


def run_and_die(company) -> None:
    """A worker claims the company, then dies: its lease runs out."""
    assert claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    expire(company)


def test_a_company_whose_worker_died_is_queued_again_and_the_log_says_so(db, started):
    company = CompanyFactory(enrich_status=QUEUED)
    run_and_die(company)

    report = sweep()

    company = fresh(company)
    assert report.expired == {"company": 1}
    assert (company.enrich_status, company.claimed_until, company.claim_token) == (
        QUEUED,
        None,
        None,
    )
    assert "attempt 2 of 3" in company.enrich_error
    assert started["company"] == [company.pk]
    [activity] = lease_expired_activities(company, "company")
    assert activity.payload["from"] == RUNNING and activity.payload["to"] == QUEUED
    assert activity.actor_type == Activity.ActorType.SYSTEM
    assert activity.workspace_id == company.workspace_id


def test_after_the_last_attempt_the_company_is_failed_for_a_person(db, started):
    company = CompanyFactory(enrich_status=QUEUED)
    for _ in range(3):
        run_and_die(company)
        sweep()

    company = fresh(company)
    assert (company.enrich_status, company.attempts) == (FAILED, 3)
    assert "attempt" not in company.enrich_error and "stopped" in company.enrich_error
    # Two retries were started; the give-up was not.
    assert started["company"] == [company.pk, company.pk]
    assert [a.payload["to"] for a in lease_expired_activities(company, "company")] == [
        QUEUED,
        QUEUED,
        FAILED,
    ]


def test_a_live_lease_is_left_alone(db, started):
    company = CompanyFactory(enrich_status=QUEUED)
    assert claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    assert sweep().expired == {}
    assert fresh(company).enrich_status == RUNNING
    assert "company" not in started


def test_a_row_running_without_any_lease_counts_as_expired(db, started):
    # Running since before leases existed, or set by hand: no worker to wait for.
    company = CompanyFactory(enrich_status=RUNNING)
    sweep()
    assert fresh(company).enrich_status == QUEUED


def test_an_import_whose_worker_died_is_queued_to_resume(db, started):
    job = ImportJobFactory(status=ImportJob.Status.QUEUED, batches_done=2)
    claim(
        ImportJob,
        job.pk,
        source=ImportJob.Status.QUEUED,
        target=ImportJob.Status.RUNNING,
        lease=LEASE,
    )
    expire(job)

    sweep()

    job = fresh(job)
    assert (job.status, job.batches_done) == (ImportJob.Status.QUEUED, 2)
    assert started["import"] == [job.pk]
    assert lease_expired_activities(job, "import")


def test_a_message_stuck_drafting_is_retried_then_failed_with_the_reason(db, started):
    message = MessageFactory(status=Message.Status.DRAFTING)
    drafting = Message.Status.DRAFTING
    for _ in range(3):
        assert claim(Message, message.pk, source=drafting, target=drafting, lease=LEASE)
        expire(message)
        sweep()
        if fresh(message).status == drafting:
            # Back to waiting: no lease, so the next worker can take it.
            assert fresh(message).claimed_until is None

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert "Drafting stopped" in message.failure_reason
    assert started["message"] == [message.pk, message.pk]


def test_a_message_waiting_for_its_first_draft_is_not_an_expired_one(db, started):
    message = MessageFactory(status=Message.Status.DRAFTING)
    assert sweep().expired == {}
    assert fresh(message).status == Message.Status.DRAFTING
    assert not lease_expired_activities(message, "message")


def test_queued_rows_whose_hint_was_lost_are_sent_again_once_per_interval(db, started):
    long_ago = timezone.now() - timedelta(hours=1)
    lost = CompanyFactory(enrich_status=QUEUED)
    recent = CompanyFactory(enrich_status=QUEUED)
    job = ImportJobFactory(status=ImportJob.Status.QUEUED)
    message = MessageFactory(status=Message.Status.DRAFTING)
    for row in (lost, job, message):
        type(row).unscoped_objects.filter(pk=row.pk).update(updated_at=long_ago)

    report = sweep()

    assert report.requeued == {"company": 1, "import": 1, "message": 1}
    assert (started["company"], started["import"], started["message"]) == (
        [lost.pk],
        [job.pk],
        [message.pk],
    )
    assert recent.pk not in started["company"]
    # Sent now: the next sweep, a minute later, does not send them again.
    assert sweep().requeued == {}


def test_the_sweeper_runs_every_minute_from_beat(db, started):
    from sdr.tasks import sweep_task

    entry = app.conf.beat_schedule["sdr.sweep"]
    assert (entry["task"], entry["schedule"]) == ("sdr.sweep", 60)
    company = CompanyFactory(enrich_status=RUNNING)
    result = sweep_task.delay().get()
    assert result["expired"] == {"company": 1}
    assert fresh(company).enrich_status == QUEUED


# --- a real worker, killed mid-import ---------------------------------------------------

WORKER_BROKER = "redis://127.0.0.1:6379/14"
# The worker process: this project's Celery app with the test's key prefix in Redis, so
# that test runs sharing the Redis database (other checkouts, CI jobs) never take each
# other's tasks.
WORKER_MAIN = """
import sys

import django

django.setup()
from sdr.celery import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "global_keyprefix": sys.argv[1]
}
app.worker_main(["worker", "-P", "solo", "-Q", "ingest", "-l", "info",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


def wait_for(condition, *, what: str, log=None, row=None, timeout: float = 60):
    """Poll until `condition()` is true; a generous deadline only turns a hang into a
    failure with the worker's log, it is not what the test measures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    state = (
        type(row).unscoped_objects.filter(pk=row.pk).values("status", "attempts").first()
        if row
        else ""
    )
    pytest.fail(f"Gave up waiting for {what}: {state}\n" + (log.read_text() if log else ""))


def ingest_worker(tmp_path, *, prefix: str, lease_seconds: int) -> tuple[subprocess.Popen, Path]:
    """A real Celery worker for the ingest queue, in its own process, on the test database."""
    log = tmp_path / "worker.log"
    process = worker_process(
        WORKER_MAIN,
        prefix,
        broker_url=WORKER_BROKER,
        log=log,
        LEASE_IMPORT_SECONDS=str(lease_seconds),
    )
    return process, log


@pytest.fixture
def redis_broker(settings):
    """This process sends tasks through Redis db 14 under a key prefix of its own."""
    with isolated_redis_broker(settings, WORKER_BROKER) as prefix:
        yield prefix


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_import_leaves_nothing_stuck_after_the_sweeper(
    workspace, redis_broker, tmp_path
):
    from celery.contrib.testing.worker import start_worker

    from leads.importing import BATCH_SIZE, import_job_create, import_job_start
    from leads.models import Lead
    from tests.leads.test_import import upload

    rows = 3 * BATCH_SIZE
    # Free-mail addresses: no companies, so nothing else is queued.
    content = "email,first_name\n" + "".join(f"p{i}@gmail.com,P{i}\n" for i in range(rows))
    job = import_job_create(workspace=workspace, uploaded_file=upload(content), user=None)

    worker, log = ingest_worker(tmp_path, prefix=redis_broker, lease_seconds=1)
    lock = connections.create_connection("default")
    try:
        import_job_start(job=job)  # the hint goes through Redis to the worker process

        def progress():
            return ImportJob.unscoped_objects.filter(pk=job.pk, batches_done__gte=1).exists()

        wait_for(progress, what="the first committed batch", log=log, row=job)
        # Hold the job's row so the worker blocks at its next batch's commit, then kill it
        # there: the host died mid-import, with a batch half written.
        lock.set_autocommit(False)
        with lock.cursor() as cursor:
            cursor.execute("SELECT id FROM leads_importjob WHERE id = %s FOR UPDATE", [str(job.pk)])
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        lock.rollback()

        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING
        assert 1 <= job.batches_done < 3
        committed = job.batches_done
        assert Lead.objects.for_workspace(workspace).count() == committed * BATCH_SIZE

        # Its lease runs out; the sweeper's next round (here, called directly) queues the
        # job and sends its hint, and a live worker resumes it.
        wait_for(lambda: timezone.now() > job.claimed_until, what="the lease to run out")
        with start_worker(
            app, pool="solo", perform_ping_check=False, queues=["ingest"], shutdown_timeout=10
        ):
            assert sweep().expired == {"import": 1}
            wait_for(
                lambda: ImportJob.unscoped_objects.get(pk=job.pk).status == "done",
                what="the resumed import to finish",
                row=job,
            )
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        lock.close()

    job.refresh_from_db()
    assert (job.done_rows, job.created_count, job.updated_count, job.error_count) == (
        rows,
        rows,
        0,
        0,
    )
    assert job.batches_done == 3 and job.claim_token is None
    assert Lead.objects.for_workspace(workspace).count() == rows
    created = Activity.objects.for_workspace(workspace).filter(type="lead.created")
    assert created.count() == rows
    assert lease_expired_activities(job, "import")
