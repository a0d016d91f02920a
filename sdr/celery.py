"""The Celery app. Configuration lives in Django settings under the CELERY_ prefix."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from sdr.runtime import startup_objects_freeze

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdr.settings")

app = Celery("sdr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def _startup_objects_freeze(**kwargs: Any) -> None:
    # In the main process, before a prefork pool forks (its children share the pages),
    # and again in each child, once it has loaded what the main process had not.
    startup_objects_freeze()
