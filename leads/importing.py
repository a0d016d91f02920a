"""CSV import: upload, map columns, run in Celery with progress, report rejected rows.

The file is kept in the database (a worker on another host reads it there). Rows go
through `leads_upsert` in batches of 1,000, each batch in its own transaction, so the
progress bar moves, a bad row is reported with its line and reason, and nothing good is
held back by it.

A run claims the job (`sdr.states.claim`) and commits each batch together with its row
errors, its progress counters and a renewal of its lease, all or nothing. A run that dies
leaves the job with a lease that runs out; the sweeper puts it back in the queue and the
next run skips the batches already committed. A dropped database connection hands the job
back at once, to resume the same way.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone

from leads.enrichment import companies_enqueue_enrichment
from leads.models import ImportFileChunk, ImportJob, ImportRowError, Lead
from leads.upsert import leads_upsert
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.headers import content_disposition
from sdr.models import Workspace
from sdr.queue import hint, hint_after_commit
from sdr.spreadsheet import csv_text
from sdr.states import Claim, claim, lease_renew, machine_for, transition

if TYPE_CHECKING:
    import _csv

logger = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_BYTES = 50 * 1024 * 1024
# The file is stored in pieces of this size: a big upload is many modest INSERTs.
CHUNK_BYTES = 1024 * 1024
# A resumed run skips the first `batches_done` batches, so the size must stay the same for
# the life of a job (a deploy that changes it should let running imports finish first).
BATCH_SIZE = 1_000
# Errors after which the work is worth resuming rather than failing: the database went
# away (a restart, a failover, a dropped connection, a deadlock or a statement timeout), or
# the task ran into its soft time limit on a very large file.
RESUMABLE = (OperationalError, InterfaceError, SoftTimeLimitExceeded)
RESUME_DELAY_SECONDS = 5
CUSTOM, IGNORE = "custom", "ignore"
TARGET_FIELDS = {
    "email": "Email",
    "external_id": "CRM id",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "title": "Job title",
    "company_name": "Company name",
    "company_domain": "Company domain",
    "website": "Website",
    "linkedin_url": "LinkedIn URL",
    "phone": "Phone",
    "timezone": "Time zone",
    "status": "Status",
    CUSTOM: "Keep as a custom field",
    IGNORE: "Ignore",
}
# Header spellings seen in CRM and spreadsheet exports, compared lowercased and squashed.
SYNONYMS = {
    "email": ["email", "e-mail", "emailaddress", "workemail", "businessemail", "mail"],
    "external_id": ["externalid", "crmid", "id", "recordid", "contactid", "leadid"],
    "first_name": ["firstname", "fname", "givenname", "first"],
    "last_name": ["lastname", "lname", "surname", "familyname", "last"],
    "full_name": ["name", "fullname", "contactname", "contact"],
    "title": ["title", "jobtitle", "position", "role", "designation"],
    "company_name": [
        "company",
        "companyname",
        "organization",
        "organisation",
        "account",
        "accountname",
        "employer",
    ],
    "company_domain": ["domain", "companydomain", "emaildomain"],
    "website": ["website", "companywebsite", "url", "web", "site", "homepage"],
    "linkedin_url": ["linkedin", "linkedinurl", "linkedinprofile", "personlinkedinurl"],
    "phone": ["phone", "phonenumber", "mobile", "telephone", "directphone"],
    "timezone": ["timezone", "tz", "time zone"],
    "status": ["status", "leadstatus"],
}


def import_job_create(
    *, workspace: Workspace, uploaded_file: UploadedFile, user: AbstractBaseUser | None
) -> ImportJob:
    content = uploaded_file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise AppError(ErrorCode.INVALID, f"The file is larger than {MAX_BYTES // 2**20} MB.")
    text, _ = decode_csv(content)
    header, reader = _reader(text)
    # An unreadable row (a cell over the size limit) is a row: it is reported by line.
    data_rows = sum(1 for row, _ in _rows(reader) if row is None or any(c.strip() for c in row))
    if data_rows == 0:
        raise AppError(ErrorCode.INVALID, "The file has a header but no rows.")
    if data_rows > MAX_ROWS:
        raise AppError(
            ErrorCode.INVALID,
            f"The file has {data_rows:,} rows; at most "
            f"{MAX_ROWS:,} can be imported at once. Split it and upload the parts.",
        )
    with transaction.atomic():
        job = ImportJob.objects.for_workspace(workspace).create(
            workspace=workspace,
            created_by=user if getattr(user, "pk", None) else None,
            filename=(uploaded_file.name or "upload.csv")[:255],
            columns=header,
            mapping=mapping_guess(header),
            total_rows=data_rows,
        )
        _file_store(job, content)
    return job


def _file_store(job: ImportJob, content: bytes) -> None:
    ImportFileChunk.unscoped_objects.bulk_create(
        ImportFileChunk(
            workspace_id=job.workspace_id,
            job=job,
            seq=seq,
            data=content[start : start + CHUNK_BYTES],
        )
        for seq, start in enumerate(range(0, len(content), CHUNK_BYTES))
    )


def import_file_content(job: ImportJob) -> bytes:
    """The uploaded file, as it was uploaded."""
    chunks = ImportFileChunk.unscoped_objects.filter(job=job).order_by("seq")
    content = b"".join(bytes(data) for data in chunks.values_list("data", flat=True))
    # A job uploaded before the file was kept in chunks still has it in `content`.
    return content or bytes(job.content)


def decode_csv(content: bytes) -> tuple[str, str]:
    """The text of an uploaded CSV and the encoding it was in."""
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        # Excel writes UTF-8 with a BOM or the Windows code page; cp1252 decodes almost
        # any byte, so it goes last.
        candidates = ["utf-8-sig", "cp1252"]
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, encoding
    raise AppError(ErrorCode.INVALID, "This does not look like a CSV text file.")


def _reader(text: str) -> tuple[list[str], _csv.Reader]:
    sample = text[: 64 * 1024]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise AppError(ErrorCode.INVALID, "The file is empty: it needs a header row.")
    return _unique([cell.strip() or f"column {i + 1}" for i, cell in enumerate(header)]), reader


def _rows(reader: _csv.Reader) -> Iterator[tuple[list[str] | None, str]]:
    """Each row's cells, or None and why it could not be read. The csv module refuses a
    cell over `csv.field_size_limit()` (128 KB) with an error that would end the whole
    file; it resumes at the next line, so one such row is reported and the rest read."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field limit" in str(error):
                limit = csv.field_size_limit() // 1024
                yield None, f"A cell in this row is too large (over {limit} KB)."
            else:
                yield None, f"This row cannot be read as CSV: {error}."
            continue
        yield cells, ""


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def mapping_guess(columns: list[str]) -> dict[str, str]:
    lookup = {alias: field for field, aliases in SYNONYMS.items() for alias in aliases}
    mapping, used = {}, set()
    for column in columns:
        key = "".join(ch for ch in column.lower() if ch.isalnum())
        field = lookup.get(key) or lookup.get(column.lower().strip())
        if field and field not in used:
            mapping[column] = field
            used.add(field)
        else:
            mapping[column] = CUSTOM
    return mapping


def import_job_set_mapping(*, job: ImportJob, mapping: object) -> ImportJob:
    # The mapping comes from a client: anything but {column: field} is refused here, once,
    # for the API and the web form alike.
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise AppError(
            ErrorCode.INVALID,
            "The column mapping must be an object of column name to lead field.",
            details={"mapping": ['Send an object such as {"Email": "email"}.']},
        )
    problems = {}
    unknown_columns = set(mapping) - set(job.columns)
    if unknown_columns:
        problems["columns"] = [f"Not in the file: {sorted(unknown_columns)}"]
    targets = [t for t in mapping.values() if t not in {CUSTOM, IGNORE}]
    bad = sorted({t for t in mapping.values() if t not in TARGET_FIELDS})
    if bad:
        problems["fields"] = [f"Unknown lead fields: {bad}"]
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        problems["duplicates"] = [f"Mapped from more than one column: {doubled}"]
    if not {"email", "external_id"} & set(targets):
        problems["required"] = ["Map a column to Email or to CRM id."]
    if problems:
        raise AppError(ErrorCode.INVALID, "The column mapping cannot be used.", details=problems)
    job.mapping = {column: mapping.get(column, CUSTOM) for column in job.columns}
    job.save(update_fields=["mapping", "updated_at"])
    return job


def import_job_start(*, job: ImportJob, mapping: object = None) -> ImportJob:
    from leads.tasks import import_leads_task

    import_job_set_mapping(job=job, mapping=mapping if mapping is not None else job.mapping)
    started = transition(
        ImportJob,
        job.pk,
        source=ImportJob.Status.MAPPING,
        target=ImportJob.Status.QUEUED,
        attempts=0,
    )
    if not started:
        raise AppError(ErrorCode.CONFLICT, "This import has already been started.", status_code=409)
    # With the broker down the job waits as queued and the sweeper sends it later.
    hint_after_commit(import_leads_task, str(job.pk))
    job.refresh_from_db()
    return job


def import_job_run(*, job_id: str) -> ImportJob | None:
    """Run a queued import from its first uncommitted batch; None if it is not queued
    (another worker has it, or it ran) or if this run stopped before the end."""
    held = claim(
        ImportJob,
        job_id,
        source=ImportJob.Status.QUEUED,
        target=ImportJob.Status.RUNNING,
        lease=_lease(),
    )
    if held is None:
        return None
    job = ImportJob.unscoped_objects.select_related("workspace").get(pk=job_id)
    try:
        for number, batch in enumerate(_batches(job)):
            if number < job.batches_done:
                continue  # committed by an earlier run
            if not _import_batch(job, batch, held=held):
                logger.warning("Import %s: lease lost; another run takes it from here.", job.pk)
                return None
    except RESUMABLE as error:
        _release(job, held, error)
        return None
    except Exception as error:
        transition(
            ImportJob,
            job.pk,
            source=ImportJob.Status.RUNNING,
            target=ImportJob.Status.FAILED,
            token=held.token,
            reason=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise
    finished = transition(
        ImportJob,
        job.pk,
        source=ImportJob.Status.RUNNING,
        target=ImportJob.Status.DONE,
        token=held.token,
        reason="",
        finished_at=timezone.now(),
    )
    if not finished:
        return None  # swept after its last batch: the run that has it now finds no batch left
    job.refresh_from_db()
    return job


def _lease() -> timedelta:
    return timedelta(seconds=settings.LEASE_IMPORT_SECONDS)


def _release(job: ImportJob, held: Claim, error: BaseException) -> None:
    """Hand the job back to the queue to resume after its committed batches, or give up
    when runs keep failing without committing anything."""
    from leads.tasks import import_leads_task

    if not connection.in_atomic_block:
        # A broken connection stays broken until closed; the next query opens a new one.
        connection.close_if_unusable_or_obsolete()
    reason = f"Interrupted ({type(error).__name__}: {error})".strip()
    expiry = machine_for(ImportJob).running[ImportJob.Status.RUNNING]
    try:
        with transaction.atomic():
            attempts = (
                ImportJob.unscoped_objects.filter(pk=job.pk)
                .values_list("attempts", flat=True)
                .first()
            ) or 0
            give_up = attempts >= expiry.max_attempts
            target = ImportJob.Status.FAILED if give_up else ImportJob.Status.QUEUED
            changes = {"finished_at": timezone.now()} if give_up else {}
            moved = transition(
                ImportJob,
                job.pk,
                source=ImportJob.Status.RUNNING,
                target=target,
                token=held.token,
                reason=reason if give_up else f"{reason}; resuming.",
                **changes,
            )
            if moved:
                activity_record(
                    workspace=job.workspace_id,
                    type="import.interrupted",
                    object_type="import",
                    object_id=job.pk,
                    payload={"to": target, "attempts": attempts, "reason": reason[:500]},
                )
    except DatabaseError:
        # Still no database: the lease runs out and the sweeper hands the job back.
        logger.exception("Import %s: could not hand the job back; the sweeper will.", job.pk)
        return
    if moved and not give_up:
        hint(import_leads_task, str(job.pk), countdown=RESUME_DELAY_SECONDS)


def _batches(job: ImportJob) -> Iterator[list[tuple[int, dict[str, str], str]]]:
    """(line, row as {column: value}, problem) in batches; line is where the row starts."""
    text, _ = decode_csv(import_file_content(job))
    header, reader = _reader(text)
    batch: list[tuple[int, dict[str, str], str]] = []
    line = reader.line_num + 1
    for cells, problem in _rows(reader):
        start, line = line, reader.line_num + 1
        if cells is None:
            batch.append((start, {}, problem))
        elif not any(cell.strip() for cell in cells):
            continue
        else:
            if len(cells) > len(header):
                problem = f"The row has {len(cells)} cells but the header has {len(header)}."
            batch.append((start, dict(zip(header, cells, strict=False)), problem))
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_batch(
    job: ImportJob, batch: list[tuple[int, dict[str, str], str]], *, held: Claim
) -> bool:
    """Import one batch in one transaction with its progress; False if the job was taken
    from this run (its lease ran out), in which case nothing of the batch is kept."""
    good = [(line, raw) for line, raw, problem in batch if not problem]
    errors = [(line, raw, problem) for line, raw, problem in batch if problem]
    with transaction.atomic():
        result = leads_upsert(
            workspace=job.workspace,
            rows=[_mapped(job.mapping, raw) for _, raw in good],
            source=Lead.Source.CSV,
        )
        for error in result.errors:
            line, raw = good[error["index"]]
            errors.append((line, raw, " ".join(error["reasons"])))
        warned = [(*good[index], " ".join(notes)) for index, notes in result.warnings.items()]
        ImportRowError.unscoped_objects.bulk_create(
            [
                ImportRowError(
                    workspace=job.workspace,
                    job=job,
                    line=line,
                    reason=reason[:2000],
                    raw=raw,
                    kept=kept,
                )
                for rows, kept in ((errors, False), (warned, True))
                for line, raw, reason in rows
            ]
        )
        renewed = lease_renew(
            ImportJob,
            held,
            lease=_lease(),
            done_rows=F("done_rows") + len(batch),
            created_count=F("created_count") + result.created,
            updated_count=F("updated_count") + result.updated,
            duplicate_count=F("duplicate_count") + result.duplicates,
            error_count=F("error_count") + len(errors),
            warning_count=F("warning_count") + len(warned),
            batches_done=F("batches_done") + 1,
            # Attempts count runs that committed nothing: a run that moved the import on
            # starts the count again, so a long import survives several lost workers,
            # while a batch that kills every worker gives up after a few tries.
            attempts=1,
        )
        if not renewed:
            # The sweeper gave the job to another run: undo this batch so it is imported
            # once, by that run.
            transaction.set_rollback(True)
            return False
        # Research starts batch by batch, so a resumed import loses no new company.
        companies_enqueue_enrichment(workspace=job.workspace, company_ids=result.new_company_ids)
    return True


def _mapped(mapping: dict[str, str], raw: dict[str, str]) -> dict[str, str | dict[str, str]]:
    row: dict[str, str | dict[str, str]] = {}
    custom: dict[str, str] = {}
    for column, value in raw.items():
        target = mapping.get(column, CUSTOM)
        if target == IGNORE:
            continue
        if target == CUSTOM:
            if value.strip():
                custom[column] = value.strip()
        else:
            row[target] = value
    row["custom_fields"] = custom
    return row


def import_rows_download(*, job: ImportJob, name: str, kept: bool = False) -> HttpResponse:
    """`import_errors_csv` as a download named `name`."""
    response = HttpResponse(import_errors_csv(job=job, kept=kept), content_type="text/csv")
    response["Content-Disposition"] = content_disposition(name)
    return response


def import_errors_csv(*, job: ImportJob, kept: bool = False) -> str:
    """The rejected rows (or, kept, the rows imported with a value cut): line, reason,
    then the row as it was in the file (formulas neutralised: the customer opens this in a
    spreadsheet)."""
    header: list[object] = ["line", "warning" if kept else "reason", *job.columns]
    rows = (
        [error.line, error.reason, *[error.raw.get(c, "") for c in job.columns]]
        for error in job.row_errors.filter(kept=kept).order_by("line")
    )
    return csv_text([header, *rows])


def import_preview(*, job: ImportJob, rows: int = 5) -> list[list[str]]:
    """The first rows of the file, for the mapping page."""
    text, _ = decode_csv(import_file_content(job))
    _, reader = _reader(text)
    preview = []
    for cells, _ in _rows(reader):
        if cells is not None and any(cell.strip() for cell in cells):
            preview.append(cells[: len(job.columns)])
        if len(preview) >= rows:
            break
    return preview
