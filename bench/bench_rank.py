"""Re-scoring a workspace's leads: the scoring against the bare matrix product, and the
whole nightly job against reading and writing the same columns bare.

`make bench` (and so CI) runs 200,000 leads to keep the run short; issue 11's size is
`BENCH_RANK_LEADS=1000000` (19 minutes here: on 2026-12-01, beside a test run, it printed
scoring 0.634, memory 0.154 and nightly job 0.876, all within the limits below).

A workspace of LEADS leads (20,000 companies, with industries, sizes, tech and signals)
is loaded once into the scratch database, the leads with COPY, and kept for later runs.

1. Scoring: `ranking.bayes.probability` (the logistic of X @ w) on the hashed feature
   matrix of every lead, against the bare NumPy/SciPy product X @ w of the same matrix.
   Memory: the peak tracemalloc allocation while scoring, against the matrix's own bytes.
   Goal (issue 11): time within 3x, memory within 2x.
2. The nightly job: `ranking.scoring.scores_write` (features read through a server-side
   cursor, hashed, scored, top reasons per lead, COPY into a staging table, one UPDATE),
   against the same query read through a server-side cursor and the same number of rows
   of the same columns (a constant score and reasons) written by COPY + the same UPDATE.
   Goal: within 2x. The table is vacuumed before each timed write so neither pays for the
   other's dead rows.

Ratios print as bare / ours (higher is better, like the other benchmarks); the limits
are the goals' inverses, 1/3 and 1/2, and the run fails under them.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_on_scratch_postgres, report

LEADS = int(os.environ.get("BENCH_RANK_LEADS", "200000"))
COMPANIES = 20_000
SLUG = f"bench-rank-{LEADS}"
SCORING_MINIMUM = 1 / 3
MEMORY_LIMIT = 2.0
JOB_MINIMUM = 1 / 2
INDUSTRIES = ["Software", "Fintech", "Logistics", "Retail", "Healthcare", "Manufacturing"]
TECH = ["HubSpot", "Salesforce", "Stripe", "Shopify", "Segment", "Intercom", "Zendesk"]
TITLES = [
    ("VP Sales", "vp", "sales"),
    ("Head of Growth", "head", "marketing"),
    ("CEO", "c_level", "executive"),
    ("Account Executive", "entry", "sales"),
    ("Engineering Manager", "manager", "engineering"),
    ("Director of Operations", "director", "operations"),
]


def workspace_ready():  # -> Workspace
    from django.db import connection

    from leads.models import Company, Signal
    from ranking.models import IdealCustomerProfile
    from sdr.models import Workspace

    workspace, _created = Workspace.objects.get_or_create(slug=SLUG, defaults={"name": SLUG})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead WHERE workspace_id = %s", [workspace.pk])
        if cursor.fetchone()[0] == LEADS:
            return workspace
    print(f"loading {LEADS:,} leads (once) ...", flush=True)
    Workspace.objects.filter(pk=workspace.pk).delete()
    workspace = Workspace.objects.create(slug=SLUG, name=SLUG)
    IdealCustomerProfile.objects.for_workspace(workspace).create(
        workspace=workspace, industries=["software", "fintech"], seniorities=["vp", "head"],
        company_sizes=["51-200"], must_have=["hubspot"], excluded=["retail"],
    )  # fmt: skip
    companies = [
        Company(
            workspace=workspace,
            domain=f"c{i}.example",
            industry=INDUSTRIES[i % len(INDUSTRIES)],
            employee_count=(i * 37) % 3000 + 1,
            country=["GB", "US", "DE", "FR"][i % 4],
            tech_stack=TECH[i % 5 : i % 5 + 2],
        )
        for i in range(COMPANIES)
    ]
    Company.objects.for_workspace(workspace).bulk_create(companies, batch_size=5000)
    now = __import__("django.utils.timezone", fromlist=["now"]).now()
    Signal.objects.for_workspace(workspace).bulk_create(
        [
            Signal(workspace=workspace, company=c, kind=["funding", "hiring"][i % 2],
                   title="signal", observed_at=now - timedelta(days=i % 400),
                   happened_on=(now - timedelta(days=i % 400)).date(), fingerprint=f"s{i}")
            for i, c in enumerate(companies[::3])
        ],
        batch_size=5000,
    )  # fmt: skip
    columns = (
        "id, workspace_id, created_at, updated_at, company_id, email, first_name, last_name, "
        "title, seniority, department, linkedin_url, phone, timezone, status, source, "
        "external_id, custom_fields, score_reasons, score_basis"
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY leads_lead ({columns}) FROM STDIN") as copy,
    ):
        for i in range(LEADS):
            title, seniority, department = TITLES[i % len(TITLES)]
            email = f"p{i}@c{i % COMPANIES}.example" if i % 10 else ""
            copy.write_row(
                (uuid.uuid4(), workspace.pk, now, now, companies[i % COMPANIES].pk, email,
                 "First", f"Last{i}", title, seniority, department, "", "", "", "new", "csv",
                 "", "{}", "[]", "")
            )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    return workspace


def scoring_ratio(workspace) -> int:
    import numpy as np
    from django.db import transaction

    from ranking import features, scoring
    from ranking.bayes import probability

    profile = scoring.profile_for(workspace)
    with transaction.atomic():
        names = [
            features.lead_features(facts, profile)
            for batch in scoring.lead_facts(workspace=workspace)
            for _, facts in batch
        ]
    X = features.features_matrix(names)
    del names
    weights = np.random.default_rng(0).normal(0, 1, features.N_FEATURES)
    bare = min(_timed(lambda: X @ weights) for _ in range(5))
    ours = min(_timed(lambda: probability(X, weights)) for _ in range(5))
    matrix_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    tracemalloc.start()
    probability(X, weights)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"feature matrix: {X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} non-zeros")
    code = report("scoring", 1 / ours, 1 / bare, "scorings/s", SCORING_MINIMUM, "bare X @ w")
    memory = peak / matrix_bytes
    verdict = "ok" if memory <= MEMORY_LIMIT else "TOO MUCH"
    print(
        f"scoring memory: peak {peak / 1e6:,.1f} MB; the matrix: {matrix_bytes / 1e6:,.1f} MB; "
        f"ratio {memory:.3f} (limit <= {MEMORY_LIMIT}) {verdict}"
    )
    return code or int(memory > MEMORY_LIMIT)


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def bare_read_write(workspace) -> int:
    """The same query read through a server-side cursor, the same columns written back."""
    from django.db import connection, transaction

    from ranking import scoring

    reasons = json.dumps([{"feature": "x", "label": "x", "contribution": 0.0}] * 3)
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bare_stage (id uuid, score float8, reasons jsonb)")
        with connection.connection.cursor(name="bare_read") as read:
            read.execute(scoring._FACTS_SQL.format(where=""), {"ws": workspace.pk})
            while rows := read.fetchmany(scoring.BATCH):
                with cursor.copy("COPY bare_stage (id, score, reasons) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row((row[0], 0.5, reasons))
                written += len(rows)
        cursor.execute(
            "UPDATE leads_lead l SET score = s.score, score_reasons = s.reasons, "
            "score_basis = 'profile', scored_at = now() FROM bare_stage s "
            "WHERE l.id = s.id AND l.workspace_id = %s",
            [workspace.pk],
        )
        cursor.execute("DROP TABLE bare_stage")
    return written


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM leads_lead")


def job_ratio(workspace) -> int:
    from ranking import scoring

    vacuum()
    bare = _timed(lambda: bare_read_write(workspace))
    vacuum()
    ours = _timed(lambda: scoring.scores_write(workspace=workspace))
    print(f"nightly job: {ours:.1f} s; bare read and write: {bare:.1f} s")
    return report("nightly job", LEADS / ours, LEADS / bare, "leads/s", JOB_MINIMUM, "bare")


def main() -> int:
    django_on_scratch_postgres()
    workspace = workspace_ready()
    return scoring_ratio(workspace) | job_ratio(workspace)


if __name__ == "__main__":
    sys.exit(main())
