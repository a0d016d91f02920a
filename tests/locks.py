"""Another connection's lock, held while a test acts: what a concurrent commit holds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from django.db import connection, models, transaction


def key_share_held(row: models.Model) -> AbstractContextManager[None]:
    """Hold KEY SHARE on `row` from another connection, as a commit does while it checks a
    foreign key to it (Django's are deferred to the commit), until the block ends. Inside,
    `SET LOCAL lock_timeout` turns a wait for it into an error rather than a hang."""
    return lock_held(row, "FOR KEY SHARE")


@contextmanager
def lock_held(row: models.Model, strength: str) -> Iterator[None]:
    """Hold a row lock of `strength` ("FOR UPDATE") on `row` from another connection
    until the block ends."""
    table = row._meta.db_table
    locked, finished = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s {strength}", [row.pk])  # noqa: S608
                locked.set()
                finished.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10), "the other connection never took its lock"
        yield
    finally:
        finished.set()
        holder.join()


@contextmanager
def lock_timeout(seconds: int = 2) -> Iterator[None]:
    """A transaction in which waiting for a lock longer than `seconds` fails."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{int(seconds)}s'")
        yield
