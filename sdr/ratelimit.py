"""Token buckets in the database: API requests per key, failed API authentications and
failed sign-ins per client address and per account.

In the database rather than Redis: the demo runs without Redis, and one row per bucket
updated in one statement is shared by every web process, which a per-process cache
(Django's default) is not. DRF's throttles keep a list of timestamps per client in the
cache, which is neither shared nor a bucket with a burst; hence this small module.

A bucket holds up to `capacity` tokens and refills at `per_second`; a request takes one.
One INSERT ... ON CONFLICT DO UPDATE decides, so concurrent requests cannot both take the
last token.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.db import connection

from sdr.models import RateBucket


@dataclass(frozen=True)
class Limit:
    capacity: float
    per_second: float

    @classmethod
    def per_minute(cls, count: float, *, burst: float | None = None) -> Limit:
        return cls(capacity=burst or count, per_second=count / 60)


@dataclass(frozen=True)
class Decision:
    allowed: bool  # for `blocked`: True means not blocked
    retry_after: int  # seconds until a token is back; 0 when allowed


def take(key: str, limit: Limit, *, now: float | None = None) -> Decision:
    """Take a token from the bucket `key`; refused (with a wait) when it is empty."""
    now = time.time() if now is None else now
    table = connection.ops.quote_name(RateBucket._meta.db_table)
    # The refill is computed in SQL from the stored state, under the row's lock; CASE in
    # place of LEAST/MIN, which PostgreSQL and SQLite spell differently.
    refill = f"({table}.tokens + (%(now)s - {table}.updated) * %(rate)s)"
    capped = f"(CASE WHEN {refill} > %(cap)s THEN %(cap)s ELSE {refill} END)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (key, tokens, updated, allowed)
            VALUES (%(key)s, %(cap)s - 1, %(now)s, %(cap)s >= 1)
            ON CONFLICT (key) DO UPDATE SET
                tokens = CASE WHEN {capped} >= 1 THEN {capped} - 1 ELSE {capped} END,
                allowed = {capped} >= 1,
                updated = %(now)s
            RETURNING tokens, allowed
            """,  # noqa: S608 - the table name is ours; values are parameters
            {"key": key[:200], "cap": limit.capacity, "now": now, "rate": limit.per_second},
        )
        tokens, allowed = cursor.fetchone() or (0.0, False)
    if allowed:
        return Decision(True, 0)
    return Decision(False, max(1, math.ceil((1 - float(tokens)) / limit.per_second)))


def reset(key: str) -> None:
    """Forget a bucket (a successful sign-in clears the account's failures)."""
    RateBucket.objects.filter(key=key[:200]).delete()


def blocked(key: str, limit: Limit, *, now: float | None = None) -> Decision:
    """Whether the bucket is empty now, without taking from it (a lockout check)."""
    now = time.time() if now is None else now
    table = connection.ops.quote_name(RateBucket._meta.db_table)
    # A plain statement, as `take`: every API request asks this first.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tokens, updated FROM {table} WHERE key = %s", [key[:200]])  # noqa: S608 - our table name
        bucket = cursor.fetchone()
    if bucket is None:
        return Decision(True, 0)
    tokens = min(limit.capacity, bucket[0] + (now - bucket[1]) * limit.per_second)
    if tokens >= 1:
        return Decision(True, 0)
    return Decision(False, max(1, math.ceil((1 - tokens) / limit.per_second)))


def client_address(request: Any) -> str:
    """The address the request came from. REMOTE_ADDR: behind a proxy, have it set this
    (e.g. gunicorn's --forwarded-allow-ips with a trusted proxy), never read headers a
    client can write."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")
