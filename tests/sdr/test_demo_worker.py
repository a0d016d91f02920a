"""The demo's worker thread: a hinted task runs beside the request, not in it, and on the
demo's SQLite a long import and a person's writes do not lock each other out."""

from __future__ import annotations

import threading

import pytest
from celery import shared_task

from sdr.queue import hint, hint_after_commit, tasks_in_background, tasks_in_background_stop
from tests.sdr.test_settings import run_on_demo_sqlite

release = threading.Event()
ran: list[tuple[str, str]] = []


@shared_task(name="tests.demo_worker.waits_for_release")
def waits_for_release(label: str) -> None:
    release.wait(timeout=30)
    ran.append((label, threading.current_thread().name))


@shared_task(name="tests.demo_worker.fails")
def fails() -> None:
    raise RuntimeError("a task that fails")


researched = threading.Event()


@shared_task(name="enrich.tests_demo_worker_probe")  # routed to the enrich queue
def research_probe() -> None:
    researched.set()


@pytest.fixture
def worker_thread():
    release.clear()
    ran.clear()
    tasks_in_background()
    yield
    release.set()
    tasks_in_background_stop()


def test_a_hint_returns_at_once_and_the_task_runs_in_the_worker_thread(worker_thread):
    assert hint(waits_for_release, "first") is True
    hint(fails)  # the worker logs it and goes on to the next task
    hint(waits_for_release, "second")
    # Had the task run in this thread, hint would have waited for the release.
    assert ran == []

    release.set()
    tasks_in_background_stop()

    assert [label for label, _ in ran] == ["first", "second"]  # in the order hinted
    assert all(name == "demo-worker-default" for _, name in ran)


def test_each_queue_has_its_own_thread_so_research_does_not_wait_behind_other_work(
    worker_thread,
):
    researched.clear()
    hint(waits_for_release, "long")  # holds the default queue's thread
    hint(research_probe)

    assert researched.wait(timeout=30)
    assert ran == []  # the long task was still waiting when research ran


@pytest.mark.django_db(transaction=True)
def test_a_task_hinted_in_a_transaction_starts_only_once_it_commits(worker_thread):
    from django.db import transaction

    with transaction.atomic():
        hint_after_commit(waits_for_release, "after commit")
        release.set()
        tasks_in_background_stop()
        assert ran == []  # nothing was handed to the worker before the commit
        tasks_in_background()
    tasks_in_background_stop()
    assert [label for label, _ in ran] == ["after commit"]


IMPORT_BESIDE_WRITES_ON_SQLITE = """
import django; django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leads.importing import import_job_create, import_job_start
from leads.models import ImportJob, Lead
from leads.services import lead_create
from sdr.models import Workspace
from sdr.queue import tasks_in_background, tasks_in_background_stop

workspace = Workspace.objects.create(name="Demo", slug="demo")
rows = "".join(f"p{n}@co{n % 50}.example,Person {n},VP Sales,Co {n % 50}\\n" for n in range(2500))
upload = SimpleUploadedFile("leads.csv", ("email,name,title,company\\n" + rows).encode())
tasks_in_background()
job = import_job_create(workspace=workspace, uploaded_file=upload, user=None)
import_job_start(job=job)  # three batches, each its own write transaction, in the worker
for n in range(30):  # meanwhile a person adds leads and watches the progress
    lead_create(workspace=workspace, row={"email": f"typed{n}@acme.example"}, source="web")
    ImportJob.objects.for_workspace(workspace).get(pk=job.pk).done_rows
tasks_in_background_stop()
job.refresh_from_db()
print(repr(job.failure))
print(job.status, job.created_count, Lead.objects.for_workspace(workspace).count())
"""


def test_on_the_demo_s_sqlite_an_import_in_the_worker_and_a_person_s_writes_both_land(
    tmp_path,
):
    result = run_on_demo_sqlite(IMPORT_BESIDE_WRITES_ON_SQLITE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "database is locked" not in result.stderr
    *_, failure, counts = result.stdout.splitlines()
    assert (counts, failure) == ("done 2500 2530", "''")
