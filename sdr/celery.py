"""The Celery app. Configuration lives in Django settings under the CELERY_ prefix."""

import os
import sys
from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init
from django.db import close_old_connections

from sdr.runtime import startup_objects_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdr.settings")

app = Celery("sdr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery's Django fixup closes every database connection before and after each task unless
# this is set, so each task paid for a new PostgreSQL session (a server process forked,
# authentication, the row-level security scope set again): 42 sessions for 42 tasks. A
# worker's connections live as the web's do instead, by `_connections_tend` below.
app.conf.update(CELERY_DB_REUSE_MAX=sys.maxsize)


@worker_init.connect
@worker_process_init.connect
def _startup_objects_freeze(**kwargs: Any) -> None:
    # In the main process, before a prefork pool forks (its children share the pages),
    # and again in each child, once it has loaded what the main process had not.
    startup_objects_freeze()


@task_prerun.connect
@task_postrun.connect
def _connections_tend(sender: Task | None = None, **kwargs: Any) -> None:
    # What Django does at a request's start and end: close a connection older than
    # CONN_MAX_AGE or left broken by an error, and health-check the rest on first use.
    # Not for an eager task: it runs inside its caller, maybe in the caller's transaction.
    if sender is not None and not getattr(sender.request, "is_eager", False):
        close_old_connections()
