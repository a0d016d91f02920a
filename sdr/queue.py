"""Handing work to Celery: a hint after commit, never the only record of the work.

The row in its queued state is the truth; the task is a hint to start now. If the broker
is down the hint is dropped with a warning and the sweeper (`sdr.states.sweep`) sends it
again later, so a broker outage delays work and never fails the request that made it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def hint(task: Task, *args: Any, countdown: float | None = None) -> bool:
    """Send the task now; False (and a warning) when the broker cannot be reached."""
    try:
        task.apply_async(args=args, countdown=countdown)
    except BrokerError as error:
        logger.warning(
            "Broker unreachable; %s%s stays queued in the database for the sweeper: %s",
            task.name,
            args,
            error,
        )
        return False
    return True


def hint_after_commit(task: Task, *args: Any, countdown: float | None = None) -> None:
    """Send the task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: hint(task, *args, countdown=countdown))


def hint_each(task: Task, ids: Iterable[Any]) -> int:
    """One hint per id (sent as a string); returns how many were sent.

    Stops at the first the broker refuses: each refusal costs the publisher's retries and
    a connect timeout, so a batch of a thousand would hold the caller for minutes. The
    rows not hinted are queued in the database all the same, and the sweeper sends them.
    """
    sent = 0
    for pk in ids:
        if not hint(task, str(pk)):
            break
        sent += 1
    return sent


def hint_each_after_commit(task: Task, ids: Iterable[Any]) -> None:
    """`hint_each` once the current transaction commits (at once outside one)."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: hint_each(task, ids))
