"""CSV import rows per second, against PostgreSQL COPY of the same rows in the same run.

COPY into a bare, unindexed table is the physical limit for getting rows into PostgreSQL
(here about 1.7 million rows/s). The import does much more per row: decode and sniff the
file, validate each email (email-validator, ~90 us a row), derive seniority and
department, match existing leads, create companies by domain, insert through the ORM into
indexed tables with unique constraints, and record progress per batch of 1,000. Measured
on the CI machine it runs at about 1/400 of COPY (~4,500 rows/s: 100,000 rows in under
half a minute); the limit fails the run if a change makes it several times slower.
"""

from __future__ import annotations

import csv
import io
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_on_scratch_postgres, report

ROWS = 20_000
MINIMUM_RATIO = 0.001
TITLES = [
    "VP Sales",
    "Head of Growth",
    "CEO & Co-founder",
    "Sr. Account Executive",
    "Software Engineer",
    "Director, Revenue Operations",
    "Office Manager",
]


def make_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Email", "First Name", "Last Name", "Job Title", "Company", "Website"])
    for i in range(ROWS):
        company = f"company{i % 2_000}"
        writer.writerow(
            [
                f"person{i}@{company}.example",
                f"First{i}",
                f"Last{i}",
                TITLES[i % len(TITLES)],
                company.title(),
                f"https://www.{company}.example",
            ]
        )
    return out.getvalue().encode()


def copy_rate(content: bytes) -> float:
    from django.db import connection

    rows = list(csv.reader(io.StringIO(content.decode())))[1:]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_copy (email text, first_name text, "
            "last_name text, title text, company text, website text)"
        )
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return len(rows) / elapsed


def import_rate(content: bytes) -> float:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leads.importing import import_job_create, import_job_run, import_job_start
    from sdr.models import Workspace

    workspace = Workspace.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        started = time.perf_counter()
        job = import_job_create(
            workspace=workspace, user=None, uploaded_file=SimpleUploadedFile("bench.csv", content)
        )
        job = import_job_start(job=job)
        job = import_job_run(job_id=str(job.pk))
        elapsed = time.perf_counter() - started
        assert job.created_count == ROWS, (job.created_count, job.error_count)
    finally:
        workspace.delete()
    return ROWS / elapsed


def main() -> int:
    django_on_scratch_postgres()
    content = make_csv()
    copy = copy_rate(content)
    ours = import_rate(content)
    return report(
        f"CSV import ({ROWS:,} rows)", ours, copy, "rows/s", MINIMUM_RATIO, "PostgreSQL COPY"
    )


if __name__ == "__main__":
    sys.exit(main())
