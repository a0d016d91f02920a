"""A real Redis broker for the tests that run real Celery workers, kept apart from any
other run on the same Redis (another checkout's suite, CI) by a key prefix of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

from sdr.celery import app
from tests.loopback import LOOPBACK_ENV


@contextmanager
def isolated_redis_broker(settings: Any, url: str) -> Iterator[str]:
    """Send this process's tasks through `url` under a fresh key prefix; yields the prefix
    (give it to worker processes) and removes its keys afterwards."""
    from redis import Redis

    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    original = app.conf.broker_url, app.conf.broker_transport_options
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app._pool, app.amqp._producer_pool = None, None
    app.conf.update(
        broker_url=url,
        broker_transport_options={**original[1], "global_keyprefix": prefix},
        task_always_eager=False,
    )
    try:
        yield prefix
    finally:
        app.conf.update(
            broker_url=original[0], broker_transport_options=original[1], task_always_eager=True
        )
        app._pool, app.amqp._producer_pool = None, None
        redis = Redis.from_url(url)
        for key in redis.scan_iter(match=f"{prefix}*"):
            redis.delete(key)


def worker_process(
    main: str, *args: str, broker_url: str, log: Path, **env: str
) -> subprocess.Popen:
    """A real Celery worker: this interpreter running the script `main` with `args`, on the
    test database and `broker_url`, allowed the tests' loopback servers as this process is
    (tests/conftest.py), with `env` on top; what it prints goes to `log`."""
    db = connection.settings_dict
    return subprocess.Popen(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", main, *args],
        cwd=Path(__file__).resolve().parents[1],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sdr.settings",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            **LOOPBACK_ENV,
            **env,
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
