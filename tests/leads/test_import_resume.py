"""A long import commits batch by batch and resumes after a crash or a dropped connection,
ending exactly as one clean run would: no batch imported twice, no count doubled."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from leads import enrichment, importing
from leads.importing import import_job_create, import_job_run, import_job_start
from leads.models import Company, ImportJob, ImportRowError, Lead
from sdr.models import Activity
from sdr.states import sweep, transition
from tests.factories import WorkspaceFactory
from tests.leads.test_import import upload

BATCH = 3


def make_csv() -> str:
    """15 rows, 5 batches of 3: bad rows, a later row updating an earlier lead, companies."""
    lines = ["email,first_name,title"]
    for i in range(15):
        if i in (4, 11):
            lines.append(f"not-an-email-{i},Bad,Row")
        elif i == 13:
            lines.append("p0@acme0.example,,Chief Executive")  # updates row 0's lead
        else:
            lines.append(f"p{i}@acme{i % 3}.example,P{i},Engineer")
    return "\n".join(lines) + "\n"


class WorkerDied(BaseException):
    """Not an Exception: nothing in the worker catches it, as nothing survives a SIGKILL."""


@pytest.fixture(autouse=True)
def _small_batches_and_no_eager_hints(monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", BATCH)
    # Starting the import and queuing research of its companies send hints after commit;
    # with committed transactions (threads, dropped connections) the eager queue would run
    # them at once. These tests run the import themselves, and research not at all.
    monkeypatch.setattr(importing, "hint_after_commit", lambda *args, **kwargs: None)
    monkeypatch.setattr(enrichment, "hint_each_after_commit", lambda *args, **kwargs: None)


@pytest.fixture
def hints(monkeypatch):
    """Hints the import sends for itself (to resume), recorded instead of run."""
    sent: list[tuple] = []
    monkeypatch.setattr(importing, "hint", lambda task, *args, **kw: sent.append(args) or True)
    return sent


def started_job(workspace) -> ImportJob:
    job = import_job_create(workspace=workspace, uploaded_file=upload(make_csv()), user=None)
    return import_job_start(job=job)


def failing_upsert(monkeypatch, *, on_batch: int, action):
    """Make batch number `on_batch` (1-based) do `action` after writing its leads."""
    real = importing.leads_upsert
    calls = {"n": 0}

    def upsert(**kwargs):
        calls["n"] += 1
        result = real(**kwargs)
        if calls["n"] == on_batch:
            action()
        return result

    monkeypatch.setattr(importing, "leads_upsert", upsert)
    return lambda: monkeypatch.setattr(importing, "leads_upsert", real)


def outcome(workspace, job) -> dict:
    job.refresh_from_db()
    return {
        "job": (
            job.status,
            job.total_rows,
            job.done_rows,
            job.created_count,
            job.updated_count,
            job.error_count,
            job.batches_done,
        ),
        "leads": sorted(
            Lead.objects.for_workspace(workspace).values_list("email", "first_name", "title")
        ),
        "errors": sorted(
            ImportRowError.objects.for_workspace(workspace).values_list("line", "reason")
        ),
        "companies": sorted(
            Company.objects.for_workspace(workspace).values_list("domain", "enrich_status")
        ),
        "lead.created": Activity.unscoped_objects.filter(
            workspace=workspace, type="lead.created"
        ).count(),
    }


def clean_run() -> dict:
    workspace = WorkspaceFactory()
    job = started_job(workspace)
    import_job_run(job_id=str(job.pk))
    result = outcome(workspace, job)
    assert result["job"] == (ImportJob.Status.DONE, 15, 15, 12, 1, 2, 5)
    return result


def test_an_import_whose_worker_died_is_resumed_by_the_sweeper_and_counted_once(db, monkeypatch):
    expected = clean_run()
    workspace = WorkspaceFactory()
    job = started_job(workspace)

    def die():
        raise WorkerDied

    restore = failing_upsert(monkeypatch, on_batch=3, action=die)
    with pytest.raises(WorkerDied):
        import_job_run(job_id=str(job.pk))

    # Two batches committed; the third, half written when the worker died, left nothing.
    job.refresh_from_db()
    assert (job.status, job.batches_done, job.done_rows) == (ImportJob.Status.RUNNING, 2, 6)
    assert Lead.objects.for_workspace(workspace).count() == 5
    # A redelivered task finds the job held: it does nothing while the lease runs.
    assert import_job_run(job_id=str(job.pk)) is None

    restore()
    ImportJob.unscoped_objects.filter(pk=job.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    # The sweeper puts it back in the queue and sends its hint; eager here, so the resumed
    # run happens inside this call.
    assert sweep().expired == {"import": 1}

    assert outcome(workspace, job) == expected
    [expired] = Activity.objects.for_workspace(workspace).filter(type="import.lease_expired")
    assert expired.object_id == str(job.pk) and expired.payload["to"] == "queued"


def test_a_database_error_in_a_batch_hands_the_job_back_to_resume(db, monkeypatch, hints):
    expected = clean_run()
    workspace = WorkspaceFactory()
    job = started_job(workspace)

    def drop():
        raise OperationalError("server closed the connection unexpectedly")

    restore = failing_upsert(monkeypatch, on_batch=2, action=drop)
    assert import_job_run(job_id=str(job.pk)) is None

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.claim_token) == (ImportJob.Status.QUEUED, 1, None)
    assert "OperationalError" in job.failure
    assert hints == [(str(job.pk),)]
    interrupted = Activity.objects.for_workspace(workspace).get(type="import.interrupted")
    assert interrupted.payload["to"] == "queued"

    restore()
    import_job_run(job_id=str(job.pk))
    result = outcome(workspace, job)
    assert result == expected
    assert job.failure == ""


def test_an_import_that_fails_every_time_without_progress_gives_up(db, monkeypatch, hints):
    workspace = WorkspaceFactory()
    job = started_job(workspace)

    def drop():
        raise OperationalError("deadlock detected")

    for _ in range(3):
        failing_upsert(monkeypatch, on_batch=1, action=drop)
        assert import_job_run(job_id=str(job.pk)) is None

    job.refresh_from_db()
    assert (job.status, job.attempts, job.batches_done) == (ImportJob.Status.FAILED, 3, 0)
    assert "deadlock detected" in job.failure and job.finished_at is not None
    assert len(hints) == 2  # resumed twice, then left for a person


@pytest.mark.django_db(transaction=True)
def test_a_dropped_database_connection_mid_import_resumes_instead_of_failing(monkeypatch, hints):
    expected = clean_run()
    workspace = WorkspaceFactory()
    job = started_job(workspace)

    def terminate_our_connection():
        # What a database restart or failover does to a worker: the server ends its session.
        pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                # As the login user (a superuser), not the role the import acts as: only a
                # superuser may end a superuser's session.
                cursor.execute("RESET ROLE")
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()

    restore = failing_upsert(monkeypatch, on_batch=2, action=terminate_our_connection)
    assert import_job_run(job_id=str(job.pk)) is None

    job.refresh_from_db()  # on a new connection
    assert (job.status, job.batches_done) == (ImportJob.Status.QUEUED, 1)
    assert hints == [(str(job.pk),)]

    restore()
    import_job_run(job_id=str(job.pk))
    assert outcome(workspace, job) == expected


@pytest.mark.django_db(transaction=True)
def test_a_run_that_lost_its_lease_mid_batch_keeps_nothing_of_that_batch(monkeypatch):
    expected = clean_run()
    workspace = WorkspaceFactory()
    job = started_job(workspace)

    def swept_meanwhile():
        # The worker stalled past its lease: the sweeper, on another connection, has put
        # the job back in the queue before this batch could commit.
        def sweeper():
            try:
                ImportJob.unscoped_objects.filter(pk=job.pk).update(
                    claimed_until=timezone.now() - timedelta(seconds=1)
                )
                assert transition(
                    ImportJob, job.pk, source=ImportJob.Status.RUNNING, target="queued"
                )
            finally:
                connection.close()

        thread = threading.Thread(target=sweeper)
        thread.start()
        thread.join()

    restore = failing_upsert(monkeypatch, on_batch=2, action=swept_meanwhile)
    assert import_job_run(job_id=str(job.pk)) is None

    job.refresh_from_db()
    assert (job.status, job.batches_done, job.done_rows) == (ImportJob.Status.QUEUED, 1, 3)
    assert Lead.objects.for_workspace(workspace).count() == 3

    restore()
    import_job_run(job_id=str(job.pk))
    assert outcome(workspace, job) == expected
