"""The batched import gives what importing the same file one row at a time gives, its totals
add up, the file is stored in pieces, and product-owned fields are never overwritten."""

from __future__ import annotations

import csv
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile

from leads.importing import (
    BATCH_SIZE,
    CHUNK_BYTES,
    _batches,
    _mapped,
    import_file_content,
    import_job_create,
    import_job_run,
    import_job_start,
)
from leads.models import Company, ImportFileChunk, ImportJob, ImportRowError, Lead, Suppression
from leads.upsert import leads_upsert
from tests.factories import WorkspaceFactory

HEADER = ["Email", "CRM ID", "First Name", "Last Name", "Title", "Company", "Website",
          "LinkedIn", "Time Zone", "Status", "Region"]  # fmt: skip
TITLES = ["VP Sales", "Head of Growth", "CEO", "Sr. Engineer", "", "Office Manager", "CMO"]
ROWS = 2 * BATCH_SIZE + 500  # three batches, repeats within and across them


def realistic_csv(seed: int = 16) -> bytes:
    """Many domains and free mail, repeats of earlier rows (some with new values, some
    empty), rows for the seeded leads, opt-outs, and bad rows of every kind."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for i in range(ROWS):
        if rows and rng.random() < 0.08:
            row = list(rng.choice(rows))
            row[4] = rng.choice([row[4], "", rng.choice(TITLES)])
            row[2] = rng.choice([row[2], ""])
            row[9] = rng.choice(["", "", "unsubscribed"])
        else:
            n = rng.randrange(40) if i % 10 == 0 else i  # i % 10 == 0: a seeded lead
            d = rng.randrange(300)
            free = rng.random() < 0.1
            domain = "gmail.com" if free else f"co{d}.example"
            row = [
                f"p{n}@{domain}" if rng.random() > 0.2 else f"P{n}@{domain.upper()}",
                f"crm-{n}-{domain}" if rng.random() < 0.2 else "",  # one id, one person
                f"First{n}",
                rng.choice([f"Last{n}", ""]),
                rng.choice(TITLES),
                "" if free else f"Company {d}",
                "" if free or rng.random() < 0.7 else f"https://www.co{d}.example/x",
                rng.choice(["", f"linkedin.com/in/p-{n}"]),
                rng.choice(["", "Europe/Paris"]),
                rng.choice(["", "", "", "customer", "do_not_contact"]),
                rng.choice(["", "EMEA", "NA"]),
            ]
        if rng.random() < 0.03:
            bad = rng.randrange(4)
            row[0] = "not-an-email" if bad == 0 else row[0]
            row[7] = "https://example.com/x" if bad == 1 else row[7]
            row[8] = "Mars/Olympus" if bad == 2 else row[8]
            row[3] = "x" * 150 if bad == 3 else row[3]  # kept, cut to 100, with a warning
        rows.append(row)
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode()


def seed(workspace) -> None:
    """Leads the file updates, with product-owned values the import must keep."""
    for n in range(0, 40, 2):
        Lead.objects.for_workspace(workspace).create(
            workspace=workspace,
            email=f"p{n}@co{n}.example",
            first_name="Old",
            title="Old title",
            status=Lead.Status.REPLIED,
            score=0.75,
            score_reasons=["kept"],
            custom_fields={"Kept": "yes"},
        )


def snapshot(workspace) -> dict[str, object]:
    leads = Lead.objects.for_workspace(workspace).select_related("company")
    return {
        "leads": sorted(
            (
                lead.email,
                lead.external_id,
                lead.first_name,
                lead.last_name,
                lead.title,
                lead.seniority,
                lead.department,
                lead.linkedin_url,
                lead.timezone,
                tuple(sorted(lead.custom_fields.items())),
                lead.company.domain if lead.company else "",
                lead.status,
                lead.score,
                tuple(lead.score_reasons),
            )
            for lead in leads
        ),
        "companies": sorted(Company.objects.for_workspace(workspace).values_list("domain", "name")),
        "suppressions": sorted(
            Suppression.objects.for_workspace(workspace).values_list("value", flat=True)
        ),
    }


def batched_import(workspace, content: bytes) -> ImportJob:
    upload = SimpleUploadedFile("leads.csv", content, content_type="text/csv")
    job = import_job_create(workspace=workspace, uploaded_file=upload, user=None)
    job = import_job_start(job=job)
    import_job_run(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def row_by_row_reference(workspace, job: ImportJob) -> list[tuple[int, bool, str]]:
    """The reference: each row of the same file through the write path alone, in file
    order. Returns the rejected and the cut rows as (line, kept, reason)."""
    noted = []
    for batch in _batches(job):
        for line, raw, problem in batch:
            if problem:
                noted.append((line, False, problem))
                continue
            result = leads_upsert(
                workspace=workspace, rows=[_mapped(job.mapping, raw)], source="csv"
            )
            noted += [(line, False, " ".join(e["reasons"])) for e in result.errors]
            noted += [(line, True, " ".join(notes)) for notes in result.warnings.values()]
    return noted


def test_the_batched_import_equals_the_row_by_row_reference_on_a_realistic_file(db):
    content = realistic_csv()
    ours, theirs = WorkspaceFactory(), WorkspaceFactory()
    seed(ours)
    seed(theirs)

    job = batched_import(ours, content)
    reference_job = ImportJob.objects.for_workspace(ours).get(pk=job.pk)
    expected_noted = row_by_row_reference(theirs, reference_job)

    assert job.status == ImportJob.Status.DONE
    got, want = snapshot(ours), snapshot(theirs)
    assert set(got["suppressions"]) ^ set(want["suppressions"]) == set()
    assert got == want
    noted = ImportRowError.objects.for_workspace(ours).values_list("line", "kept", "reason")
    assert sorted(noted) == sorted(expected_noted)
    # The file is not flattering: all of these happen in it.
    assert job.created_count > 1_000 and job.updated_count > 0
    assert job.duplicate_count > 0 and job.error_count > 0 and job.warning_count > 0
    assert len(snapshot(ours)["suppressions"]) > 0


def test_the_totals_add_up_to_the_rows_of_the_file(db):
    workspace = WorkspaceFactory()
    seed(workspace)
    job = batched_import(workspace, realistic_csv(seed=7))

    counted = job.created_count + job.updated_count + job.duplicate_count + job.error_count
    assert counted == job.total_rows == job.done_rows == ROWS
    noted = ImportRowError.objects.for_workspace(workspace)
    assert job.error_count == noted.filter(kept=False).count()
    assert job.warning_count == noted.filter(kept=True).count() > 0


def test_the_import_never_overwrites_product_owned_fields(db):
    workspace = WorkspaceFactory()
    seed(workspace)
    content = (
        b"Email,First Name,Title,Status,Score\n"
        b"p0@co0.example,Dana,VP Sales,new,0.1\n"
        b"p2@co2.example,,,customer,\n"
    )

    job = batched_import(workspace, content)

    leads = Lead.objects.for_workspace(workspace)
    dana, other = leads.get(email="p0@co0.example"), leads.get(email="p2@co2.example")
    assert job.updated_count == 2
    assert (dana.status, dana.score, dana.score_reasons) == ("replied", 0.75, ["kept"])
    assert (dana.first_name, dana.title, dana.seniority) == ("Dana", "VP Sales", "vp")
    assert dana.custom_fields == {"Kept": "yes", "Score": "0.1"}
    # An empty cell never erases what is known.
    assert (other.first_name, other.title, other.status) == ("Old", "Old title", "replied")


def test_the_uploaded_file_is_stored_in_pieces_and_read_back_whole(db):
    workspace = WorkspaceFactory()
    line = "p{n}@co.example,First{n},{pad}\n"
    content = "Email,First Name,Notes\n" + "".join(
        line.format(n=n, pad="x" * 200) for n in range(2 * CHUNK_BYTES // 200)
    )
    upload = SimpleUploadedFile("big.csv", content.encode(), content_type="text/csv")

    job = import_job_create(workspace=workspace, uploaded_file=upload, user=None)

    chunks = ImportFileChunk.objects.for_workspace(workspace).filter(job=job)
    assert chunks.count() == 3  # two full pieces and the rest
    assert max(len(bytes(c.data)) for c in chunks) == CHUNK_BYTES
    assert bytes(job.content) == b""
    assert import_file_content(job) == content.encode()


def test_a_job_stored_before_chunks_still_reads_its_file(db):
    workspace = WorkspaceFactory()
    job = ImportJob.objects.for_workspace(workspace).create(
        workspace=workspace,
        filename="old.csv",
        content=b"Email\ndana@northwind.example\n",
        columns=["Email"],
        mapping={"Email": "email"},
        total_rows=1,
        status=ImportJob.Status.QUEUED,
    )

    import_job_run(job_id=str(job.pk))

    job.refresh_from_db()
    assert (job.status, job.created_count) == (ImportJob.Status.DONE, 1)
    assert Lead.objects.for_workspace(workspace).get().email == "dana@northwind.example"


def test_a_row_repeating_a_refused_row_is_refused_with_it(db):
    workspace = WorkspaceFactory()
    Lead.objects.for_workspace(workspace).create(workspace=workspace, email="a@x.example")
    Lead.objects.for_workspace(workspace).create(
        workspace=workspace, email="b@x.example", external_id="crm-1"
    )

    result = leads_upsert(
        workspace=workspace,
        rows=[
            {"email": "a@x.example", "external_id": "crm-1"},  # two different leads
            {"email": "a@x.example", "external_id": "crm-1", "title": "CEO"},
            {"email": "c@x.example"},
        ],
        source="api",
    )

    assert [e["index"] for e in result.errors] == [0, 1]
    assert result.statuses == ["error", "error", "created"]
    assert result.created + result.updated + result.duplicates + len(result.errors) == 3
