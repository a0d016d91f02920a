"""Handing work to Celery: a hint after commit, never the only record of the work.

The row in its queued state is the truth; the task is a hint to start now. If the broker
is down the hint is dropped with a warning and the sweeper (`sdr.states.sweep`) sends it
again later, so a broker outage delays work and never fails the request that made it.

The demo has no broker: tasks run eagerly, in the request that hinted them, unless
`tasks_in_background` gave it a worker thread (an import of 100,000 rows takes minutes).
"""

from __future__ import annotations

import logging
import queue
import reprlib
import threading
from collections.abc import Iterable
from typing import Any

from celery import Task
from django.db import close_old_connections, transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)
# See hint_each.
FAN_OUT_FROM = 50
FAN_OUT_CHUNK = 1_000
# A hint's arguments in a log line: its ids whole, but a fan-out's thousand only the first.
_LOGGED_ARGS = reprlib.Repr()
_LOGGED_ARGS.maxstring, _LOGGED_ARGS.maxlist = 80, 3
_Work = queue.Queue[tuple[Task, tuple[Any, ...]] | None]
# The demo's worker threads, one per Celery queue (CELERY_TASK_ROUTES), made as tasks
# arrive; None when tasks run in the request.
_background: dict[str, _Work] | None = None
_background_lock = threading.Lock()


def tasks_in_background() -> None:
    """From now on, run hinted tasks in worker threads of this process instead of in the
    request: one thread per queue, as Celery routes them, each in the order hinted (so a
    company's research does not wait behind an import's scoring). For the demo (`manage.py
    demo`), whose tasks are eager."""
    global _background
    with _background_lock:
        if _background is None:
            _background = {}


def tasks_in_background_stop() -> None:
    """Wait for the tasks hinted so far (those they hint meanwhile run in their thread),
    then run tasks in the request again."""
    global _background
    with _background_lock:
        lines, _background = _background or {}, None
    for tasks in lines.values():
        tasks.join()
        tasks.put(None)


def _background_put(task: Task, args: tuple[Any, ...], queue_name: str | None) -> bool:
    with _background_lock:
        if _background is None:
            return False
        name = queue_name or _queue_of(task)
        if name not in _background:
            _background[name] = queue.Queue()
            worker = threading.Thread(
                target=_work, args=(_background[name],), name=f"demo-worker-{name}"
            )
            worker.daemon = True
            worker.start()
        _background[name].put((task, args))
    return True


def hint(task: Task, *args: Any, countdown: float | None = None, queue: str | None = None) -> bool:
    """Send the task now (to `queue` rather than the one its name routes to); False (and a
    warning) when the broker cannot be reached."""
    if _background is not None and _background_put(task, args, queue):
        return True
    try:
        task.apply_async(args=args, countdown=countdown, queue=queue)
    except BrokerError as error:
        logger.warning(
            "Broker unreachable; %s%s stays queued in the database for the sweeper: %s",
            task.name,
            _LOGGED_ARGS.repr(args),
            error,
        )
        return False
    return True


def _work(tasks: _Work) -> None:
    while (item := tasks.get()) is not None:
        task, args = item
        try:
            task.apply(args=args, throw=True)
        except Exception:  # the thread goes on with the next task, as a worker would
            logger.exception("Task %s%s failed", task.name, args)
        finally:
            close_old_connections()
            tasks.task_done()
    tasks.task_done()


def hint_after_commit(task: Task, *args: Any, countdown: float | None = None) -> None:
    """Send the task once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: hint(task, *args, countdown=countdown))


def hint_each(task: Task, ids: Iterable[Any], *, queue: str | None = None) -> int:
    """One hint per id (sent as a string); returns how many were sent, or handed to a worker
    to send.

    Each Celery publish costs 0.3-1 ms, most of it Celery's own (measured on the memory
    transport, RabbitMQ and Redis): a bulk enroll of 5,000 leads spent 4-5 s of its request
    on draft hints over Redis, an import a seventh of its time on research hints. So from
    FAN_OUT_FROM ids on, the hints go as one message per FAN_OUT_CHUNK ids to the queue the
    tasks go to, and the worker that takes it sends them (`hints_send`), where the tasks
    would have waited anyway. A message delivered twice (its worker died) sends hints
    twice, which is harmless: each task claims its row, and the second finds it taken.
    """
    ids = [str(pk) for pk in ids]
    if len(ids) < FAN_OUT_FROM or _background is not None or task.app.conf.task_always_eager:
        return hints_send(task, ids, queue=queue)
    from sdr.tasks import hints_send_task

    sent = 0
    for start in range(0, len(ids), FAN_OUT_CHUNK):
        chunk = ids[start : start + FAN_OUT_CHUNK]
        if not hint(hints_send_task, task.name, chunk, queue or "", queue=queue or _queue_of(task)):
            break
        sent += len(chunk)
    return sent


def hints_send(task: Task, ids: list[str], *, queue: str | None = None) -> int:
    """One hint per id, from here; how many were sent.

    Stops at the first the broker refuses: each refusal costs the publisher's retries and
    a connect timeout, so a batch of a thousand would hold the caller for minutes. The
    rows not hinted are queued in the database all the same, and the sweeper sends them.
    """
    sent = 0
    for pk in ids:
        if not hint(task, pk, queue=queue):
            break
        sent += 1
    return sent


def _queue_of(task: Task) -> str:
    return task.app.amqp.router.route({}, task.name)["queue"].name


def hint_each_after_commit(task: Task, ids: Iterable[Any], *, queue: str | None = None) -> None:
    """`hint_each` once the current transaction commits (at once outside one)."""
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: hint_each(task, ids, queue=queue))
