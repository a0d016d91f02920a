"""Writes on companies and single leads (bulk writes are in leads.upsert)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Value, When
from django.db.models.functions import Coalesce, Greatest

from leads.contactability import OPT_OUT_STATUSES, SuppressResult, suppressions_add
from leads.models import Company, Lead, Suppression
from leads.normalize import (
    email_normalize,
    linkedin_url_normalize,
    registrable_domain,
    timezone_validate,
)
from leads.titles import title_classify
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

if TYPE_CHECKING:
    from leads.upsert import UpsertResult

COMPANY_EDITABLE = [
    "name",
    "website",
    "description",
    "industry",
    "employee_count",
    "location",
    "country",
    "phone",
    "custom_fields",
]
LEAD_EDITABLE = [
    "first_name",
    "last_name",
    "email",
    "title",
    "linkedin_url",
    "phone",
    "timezone",
    "external_id",
    "custom_fields",
    "company",
]


def company_create(*, workspace: Workspace, domain: str, **fields: Any) -> Company:
    normalized = _domain_or_error(domain)
    if Company.objects.for_workspace(workspace).filter(domain=normalized).exists():
        raise AppError(
            ErrorCode.CONFLICT,
            f"A company with the domain {normalized} exists.",
            details={"domain": normalized},
            status_code=409,
        )
    company = Company(workspace=workspace, domain=normalized)
    for name, value in fields.items():
        if name in COMPANY_EDITABLE:
            setattr(company, name, value)
    company.full_clean(exclude=["workspace"])
    with transaction.atomic():
        company.save()
        activity_record(
            workspace=workspace,
            type="company.created",
            object_type="company",
            object_id=company.pk,
            payload={"domain": company.domain},
        )
    return company


def company_update(*, company: Company, data: dict[str, Any]) -> Company:
    """Apply a person's edits; edited fields stop being the waterfall's to choose."""
    changed = [name for name in COMPANY_EDITABLE if name in data]
    for name in changed:
        setattr(company, name, data[name])
    company.field_sources = {
        key: value for key, value in company.field_sources.items() if key not in changed
    }
    company.full_clean(exclude=["workspace"])
    with transaction.atomic():
        company.save()
        activity_record(
            workspace=company.workspace,
            type="company.updated",
            object_type="company",
            object_id=company.pk,
            payload={"fields": changed},
        )
    return company


def lead_create(*, workspace: Workspace, row: dict[str, Any], source: str) -> Lead:
    """Create one lead (API, web form); a lead that exists already is a 409 naming it.

    Creating is not upserting: a person typing an address that is already a lead, or a
    CRM creating a contact it already synced, should hear so, not silently overwrite the
    lead. The row goes through the one write path (`leads_upsert`: validation, company by
    domain, activities); if that path matched an existing lead by external_id or email,
    the whole write is rolled back. Deciding after the write, inside the transaction,
    also covers a duplicate inserted concurrently between a check and our insert.
    """
    from leads.enrichment import companies_enqueue_enrichment
    from leads.upsert import leads_upsert

    with transaction.atomic():
        result = leads_upsert(workspace=workspace, rows=[row], source=source)
        raise_for_upsert_errors(result)
        if result.updated:
            existing = result.lead_ids[0]
            raise AppError(
                ErrorCode.CONFLICT,
                "A lead with this email or external id exists already.",
                details={"lead": str(existing)},
                status_code=409,
            )
        # A lead created alone still gets its new company researched, as an import does.
        companies_enqueue_enrichment(workspace=workspace, company_ids=result.new_company_ids)
    return (
        Lead.objects.for_workspace(workspace).select_related("company").get(pk=result.lead_ids[0])
    )


EDIT_NORMALIZERS: dict[str, Callable[[str], str]] = {
    "email": email_normalize,
    "timezone": timezone_validate,
    "linkedin_url": linkedin_url_normalize,
}
EDIT_LABELS = {"email": "email address", "timezone": "time zone", "linkedin_url": "LinkedIn URL"}


def lead_update(*, lead: Lead, data: dict[str, Any]) -> Lead:
    """Apply an edit. A `status` is read only for an opt-out, which becomes a suppression;
    the lead's stage is the product's to set, and no value lifts a suppression."""
    for name in LEAD_EDITABLE:
        if name in data:
            setattr(lead, name, data[name])
    # Normalised and checked as an import does (leads/upsert.py): no path stores what
    # another refuses.
    for name, normalize in EDIT_NORMALIZERS.items():
        if data.get(name):
            try:
                setattr(lead, name, normalize(data[name]))
            except ValueError as error:
                raise AppError(
                    ErrorCode.INVALID,
                    f"The {EDIT_LABELS[name]} is not valid.",
                    details={name: [str(error)]},
                ) from error
    if "title" in data:
        lead.seniority, lead.department = title_classify(lead.title)
    lead.full_clean(exclude=["workspace", "company"], validate_constraints=False)
    opted_out = str(data.get("status") or "").strip().lower() in OPT_OUT_STATUSES
    try:
        with transaction.atomic():
            lead.save()
            activity_record(
                workspace=lead.workspace,
                type="lead.updated",
                object_type="lead",
                object_id=lead.pk,
                payload={"fields": [name for name in LEAD_EDITABLE if name in data]},
            )
            from ranking.services import leads_score_after_commit

            leads_score_after_commit(workspace=lead.workspace, lead_ids=[lead.pk])
            if opted_out and lead.email:
                suppressions_add(
                    workspace=lead.workspace,
                    values=[lead.email],
                    reason="Marked as opted out through the API.",
                    source=Suppression.Source.API,
                )
    except IntegrityError as error:
        raise AppError(
            ErrorCode.CONFLICT, "Another lead has that email or external id.", status_code=409
        ) from error
    return lead


def _domain_or_error(value: str) -> str:
    domain = registrable_domain(value or "")
    if not domain:
        raise AppError(
            ErrorCode.INVALID,
            "That is not a company domain or website.",
            details={"domain": [f"{value!r} has no registrable domain."]},
        )
    return domain


def raise_for_upsert_errors(result: UpsertResult) -> None:
    """A single-lead write (API, form) that the upsert refused becomes one clear API error."""
    if result.errors:
        reasons = [reason for error in result.errors for reason in error["reasons"]]
        raise AppError(
            ErrorCode.INVALID,
            "The lead could not be saved: " + " ".join(reasons),
            details={"reasons": reasons},
        )


# A suppression list is a column of addresses or domains; these header cells are skipped.
_SUPPRESSION_HEADERS = {"email", "e-mail", "email address", "address", "domain", "value"}
MAX_SUPPRESSION_CSV_BYTES = 2 * 1024 * 1024
MAX_SUPPRESSION_CSV_ROWS = 10_000


def suppressions_import_csv(
    *,
    workspace: Workspace,
    content: bytes,
    reason: str = "",
    source: str,
    user: User | None = None,
) -> SuppressResult:
    """Suppress the addresses and domains in the first column of a CSV file.

    Errors carry the file's line (1-based, as a spreadsheet shows it) instead of an index.
    """
    if len(content) > MAX_SUPPRESSION_CSV_BYTES:
        raise AppError(
            ErrorCode.INVALID,
            f"The file is larger than {MAX_SUPPRESSION_CSV_BYTES // (1024 * 1024)} MB; split it.",
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    lines: list[int] = []
    values: list[str] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            cell = (row[0] if row else "").strip()
            if not cell or (not values and cell.lower() in _SUPPRESSION_HEADERS):
                continue
            lines.append(reader.line_num)
            values.append(cell)
    except csv.Error as error:
        raise AppError(
            ErrorCode.INVALID, f"Line {reader.line_num} of the file cannot be read: {error}."
        ) from None
    if len(values) > MAX_SUPPRESSION_CSV_ROWS:
        raise AppError(
            ErrorCode.INVALID,
            f"At most {MAX_SUPPRESSION_CSV_ROWS:,} values per file; got {len(values):,}.",
        )
    result = suppressions_add(
        workspace=workspace, values=values, reason=reason, source=source, user=user
    )
    for row_error in result.errors:
        row_error["line"] = lines[row_error.pop("index")]
    return result


def leads_touch(moments: Mapping[Any, datetime]) -> int:
    """Move each lead's last activity (lead id -> when) forward to when it happened, in one
    statement; never back, so a late record of an older event leaves a newer one in
    place. `updated_at` stays: the person did not change, something happened with them."""
    if not moments:
        return 0
    # One WHEN per moment, not per lead: a batch of sends shares a few moments, and
    # compiling a WHEN costs more than the row's update.
    leads_at: dict[datetime, list[Any]] = {}
    for pk, when in moments.items():
        leads_at.setdefault(when, []).append(pk)
    at = Case(
        *(When(pk__in=pks, then=Value(when)) for when, pks in leads_at.items()),
        output_field=DateTimeField(),
    )
    # COALESCE first: SQLite's MAX() of a NULL is NULL.
    latest = Greatest(Coalesce(F("last_activity_at"), at), at)
    return Lead.unscoped_objects.filter(pk__in=list(moments)).update(last_activity_at=latest)
