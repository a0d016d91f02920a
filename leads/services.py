"""Writes on companies and single leads (bulk writes are in leads.upsert)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from leads.models import Company, Lead
from leads.normalize import email_normalize, registrable_domain
from leads.titles import title_classify
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

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


def lead_update(*, lead: Lead, data: dict[str, Any]) -> Lead:
    for name in LEAD_EDITABLE:
        if name in data:
            setattr(lead, name, data[name])
    if data.get("email"):
        try:
            lead.email = email_normalize(data["email"])
        except ValueError as error:
            raise AppError(
                ErrorCode.INVALID,
                "The email address is not valid.",
                details={"email": [str(error)]},
            ) from error
    if "title" in data:
        lead.seniority, lead.department = title_classify(lead.title)
    lead.full_clean(exclude=["workspace", "company"], validate_constraints=False)
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


def raise_for_upsert_errors(result) -> None:
    """A single-lead write (API, form) that the upsert refused becomes one clear API error."""
    if result.errors:
        reasons = [reason for error in result.errors for reason in error["reasons"]]
        raise AppError(
            ErrorCode.INVALID,
            "The lead could not be saved: " + " ".join(reasons),
            details={"reasons": reasons},
        )
