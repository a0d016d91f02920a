"""Handing work to Celery: a hint after commit, never the only record of the work.

The row in its queued state is the truth; the task is a hint to start now. If the broker
is down the hint is dropped with a warning and the sweeper (`sdr.states.sweep`) sends it
again later, so a broker outage delays work and never fails the request that made it.
"""

from __future__ import annotations

import logging
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
