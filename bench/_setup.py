"""Benchmarks run against a scratch PostgreSQL database of their own, migrated on start."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def django_on_scratch_postgres() -> None:
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sdr")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        sys.exit("The benchmarks need PostgreSQL: set DATABASE_URL to a postgres:// URL.")
    # Named after DATABASE_URL's database (sdr -> sdr_bench), so benchmarks run side by side
    # from checkouts with their own databases do not load into each other's tables.
    bench_db = f"{parts.path.strip('/') or 'sdr'}_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [bench_db]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{bench_db}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdr.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Tasks go to an in-memory broker and stay there: a benchmark measures its own work,
    # not the enrichment or drafting that work would queue.
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    # The benchmarks' servers (SMTP sink, sites, receivers) are on loopback, which only
    # the demo and the benchmarks may reach.
    for name in ("FETCH_ALLOWED_NETWORKS", "MAILBOX_ALLOWED_NETWORKS", "WEBHOOK_ALLOWED_NETWORKS"):
        os.environ.setdefault(name, "127.0.0.1/32,::1/128")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def report(
    name: str, measured: float, limit_rate: float, unit: str, minimum_ratio: float, what: str
) -> int:
    ratio = measured / limit_rate
    verdict = "ok" if ratio >= minimum_ratio else "TOO SLOW"
    print(
        f"{name}: {measured:,.0f} {unit}; {what}: {limit_rate:,.0f} {unit}; "
        f"ratio {ratio:.3f} (limit >= {minimum_ratio}) {verdict}"
    )
    return 0 if ratio >= minimum_ratio else 1
