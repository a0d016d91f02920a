"""CSV import rows per second, against PostgreSQL COPY of the same rows in the same run.

COPY into a bare, unindexed table is the physical limit for getting rows into PostgreSQL.
The import does much more per row: decode and sniff the file, validate each email, derive
seniority and department, match existing leads, create companies by domain, write into
indexed tables with unique constraints, record progress and row errors per batch.

The file is a realistic one, not 20,000 clean unique rows: ROWS rows over ROWS * 0.12
company domains and free-mail addresses, 300 distinct titles, about 4% of rows repeating
an earlier row of the file, ROWS / 20 rows updating leads the workspace already has, and
about 2% bad rows (bad emails, LinkedIn URLs, time zones, names too long). Each side runs
three times; the ratio of the medians is judged, and min / median of both are printed.

What the leads table's indexes allow is printed beside it: the import's finished lead rows,
copied with COPY (no Python in the loop) into a copy of the leads table with every index
it has, per second. Its ratio to the bare COPY is the ceiling any import can reach here;
the import's own ratio to that ceiling is printed too.

ROWS is 30,000 by default so that `make bench` fits in CI's time; the issue's size is
`BENCH_IMPORT_ROWS=100000` (on 2026-12-01 in CI: 760 rows/s, ratio 0.0017, about seven
minutes for the three runs).
"""

from __future__ import annotations

import csv
import io
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_on_scratch_postgres, report

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "30000"))
EXISTING = ROWS // 20  # leads already in the workspace, updated by the file
DOMAINS = ROWS * 12 // 100
RUNS = 3
MINIMUM_RATIO = 0.001
HEADER = ["Email", "First Name", "Last Name", "Job Title", "Company", "Website", "LinkedIn",
          "Time Zone", "Lead Source"]  # fmt: skip
SENIORITY = ["VP", "Head of", "Director of", "Senior", "Chief", "", "Manager,", "Jr."]
AREAS = ["Sales", "Growth", "Engineering", "Marketing", "Revenue Operations", "Finance",
         "People", "Customer Success", "Product", "IT", "Legal", "Partnerships"]  # fmt: skip
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "", ""]


def _titles(rng: random.Random) -> list[str]:
    titles = {f"{s} {a}".strip() for s in SENIORITY for a in AREAS}
    while len(titles) < 300:
        titles.add(
            f"{rng.choice(SENIORITY)} {rng.choice(AREAS)} {rng.choice(['EMEA', 'II', 'Lead'])}"
        )
    return sorted(titles)


def _row(i: int, rng: random.Random, titles: list[str]) -> list[str]:
    d = rng.randrange(DOMAINS)
    company = f"company{d}"
    free = rng.random() < 0.1
    domain = rng.choice(FREE_MAIL) if free else f"{company}.example"
    email = f"first{i}.last{i}@{domain}"
    return [
        email if rng.random() > 0.3 else email.upper(),
        f"First{i}",
        f"Last{i}",
        rng.choice(titles),
        "" if free else f"Company {d} Inc",
        "" if free or rng.random() < 0.5 else f"https://www.{company}.example/about",
        f"linkedin.com/in/person-{i}" if rng.random() < 0.4 else "",
        rng.choice(ZONES),
        rng.choice(["conference", "webinar", "list"]),
    ]


def _bad(row: list[str], rng: random.Random) -> list[str]:
    kind = rng.randrange(4)
    if kind == 0:
        row[0] = row[0].replace("@", " at ")
    elif kind == 1:
        row[6] = "https://example.com/not-linkedin"
    elif kind == 2:
        row[7] = "Mars/Olympus"
    else:
        row[1] = "x" * 150
    return row


def make_csv(seed: int = 16) -> bytes:
    rng = random.Random(seed)
    titles = _titles(rng)
    rows: list[list[str]] = []
    for i in range(ROWS):
        if i < EXISTING:
            row = _row(i, rng, titles)  # the same people as the seeded leads
        elif rows and rng.random() < 0.04:
            row = list(rng.choice(rows))  # a repeat of an earlier row of the file
            row[3] = rng.choice(titles)
        else:
            row = _row(i, rng, titles)
        rows.append(_bad(row, rng) if rng.random() < 0.02 else row)
    rng.shuffle(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def copy_seconds(content: bytes) -> float:
    from django.db import connection

    rows = list(csv.reader(io.StringIO(content.decode())))[1:]
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_copy ({columns})")
        started = time.perf_counter()
        with cursor.copy("COPY bench_copy FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy")
    return elapsed


def indexed_copy_rate(workspace_id: Any) -> float:
    """Leads per second that COPY writes into a copy of the leads table with all its indexes
    (eighteen, four of them trigram GIN indexes for search), from the rows the import made."""
    from django.db import connection

    data = bytearray()
    with connection.cursor() as cursor:
        # psycopg's own cursor: Django's wrapper takes no parameters for COPY.
        with cursor.cursor.copy(
            "COPY (SELECT * FROM leads_lead WHERE workspace_id = %s) TO STDOUT", [workspace_id]
        ) as copy:
            for block in copy:
                data += block
        rows = data.count(b"\n")
        cursor.execute("CREATE TEMP TABLE bench_leads (LIKE leads_lead INCLUDING ALL)")
        started = time.perf_counter()
        with cursor.copy("COPY bench_leads FROM STDIN") as copy:
            copy.write(data)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_leads")
    return rows / elapsed


def import_seconds(content: bytes) -> tuple[float, Any, float]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leads.importing import import_job_create, import_job_run, import_job_start
    from leads.models import Lead
    from sdr.models import Workspace

    workspace = Workspace.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        # The file's first 5,000 people are already leads (matched by email).
        text = content.decode()
        emails = [
            row[0].lower()
            for row in csv.reader(io.StringIO(text))
            if row and row[0].lower().startswith("first") and "@" in row[0]
        ]
        existing = sorted({e for e in emails if int(e[5 : e.index(".")]) < EXISTING})
        Lead.unscoped_objects.bulk_create(
            [Lead(workspace=workspace, email=e, first_name="Old", title="Old") for e in existing],
            batch_size=1000,
        )
        started = time.perf_counter()
        job = import_job_create(
            workspace=workspace, user=None, uploaded_file=SimpleUploadedFile("bench.csv", content)
        )
        job = import_job_start(job=job)
        job = import_job_run(job_id=str(job.pk))
        elapsed = time.perf_counter() - started
        assert job is not None and job.done_rows == ROWS, job
        counts = (job.created_count, job.updated_count, job.error_count)
        ceiling = indexed_copy_rate(workspace.pk)
    finally:
        workspace.delete()
    return elapsed, counts, ceiling


def main() -> int:
    django_on_scratch_postgres()
    content = make_csv()
    copies, imports, ceilings, counts = [], [], [], set()
    for _ in range(RUNS):
        copies.append(copy_seconds(content))
        elapsed, run_counts, ceiling = import_seconds(content)
        imports.append(elapsed)
        ceilings.append(ceiling)
        counts.add(run_counts)
    assert len(counts) == 1, counts  # every run imports the same
    ratios = sorted(c / i for c, i in zip(copies, imports, strict=True))
    print(
        f"CSV import: {ROWS / statistics.median(imports):,.0f} rows/s median; "
        f"ratio to COPY min {ratios[0]:.4f} / median {statistics.median(ratios):.4f}; "
        f"created, updated, rejected = {counts.pop()}"
    )
    copy_rate, ceiling = ROWS / statistics.median(copies), statistics.median(ceilings)
    print(
        f"Ceiling: COPY of the finished leads into the indexed leads table {ceiling:,.0f} rows/s, "
        f"ratio to bare COPY {ceiling / copy_rate:.4f}; the import reaches "
        f"{ROWS / statistics.median(imports) / ceiling:.2f} of it"
    )
    return report(
        f"CSV import ({ROWS:,} rows, median of {RUNS})",
        ROWS / statistics.median(imports),
        ROWS / statistics.median(copies),
        "rows/s",
        MINIMUM_RATIO,
        "PostgreSQL COPY",
    )


if __name__ == "__main__":
    sys.exit(main())
