"""The one write path for leads: CSV rows, API payloads and the web form all come here.

Rows are validated one by one (a bad row is reported with its reasons, the good ones are
saved), merged within the batch, matched to existing leads by external_id and then email,
and written with a fixed number of queries per batch, whatever its size.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q

from leads.contactability import OPT_OUT_STATUSES, suppressions_add
from leads.models import Company, Lead, Suppression
from leads.names import MAX_NAME_CHARS, name_problem
from leads.normalize import (
    InvalidValue,
    email_normalize,
    is_free_mail,
    linkedin_url_normalize,
    registrable_domain,
    split_name,
    timezone_validate,
)
from leads.titles import title_classify
from sdr.activity import Event, activities_record
from sdr.bulk import rows_insert, rows_update
from sdr.models import Workspace

# Text a person reads is cut to its column with a warning, so one long title does not
# cost the whole row. An external_id is an identity (cutting two could make them one) and a
# cut phone number is a wrong number: the first refuses the row, the second is left out.
CUT_LENGTHS = {"first_name": 100, "last_name": 100, "title": 200, "company_name": 200}
MAX_EXTERNAL_ID = 200
MAX_PHONE = 40
MAX_CUSTOM_KEY, MAX_CUSTOM_VALUE = 100, 1000
LEAD_FIELDS = [
    "email",
    "external_id",
    "first_name",
    "last_name",
    "title",
    "linkedin_url",
    "phone",
    "timezone",
]
# A file has far fewer distinct titles and domains than rows: each is worked out once per
# process (pure functions of their text, so a cached answer is always the right one).
_title_classify = lru_cache(maxsize=65_536)(title_classify)
_registrable_domain = lru_cache(maxsize=65_536)(registrable_domain)
_SUPPRESSION_SOURCE: dict[str, Suppression.Source] = {
    Lead.Source.API: Suppression.Source.API,
    Lead.Source.WEB: Suppression.Source.UI,
}
# Fields a row may carry besides the lead's own; everything else becomes a custom field.
ROW_FIELDS = {
    *LEAD_FIELDS,
    "status",
    "full_name",
    "company_name",
    "company_domain",
    "website",
    "custom_fields",
}
UPDATABLE = [
    "first_name",
    "last_name",
    "title",
    "seniority",
    "department",
    "linkedin_url",
    "phone",
    "timezone",
    "external_id",
    "email",
    "company",
    "custom_fields",
]


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    # Rows that repeat a lead earlier in the same call: merged into that row, counted here,
    # so created + updated + duplicates + len(errors) = rows.
    duplicates: int = 0
    lead_ids: list[Any] = field(default_factory=list)  # per input row; None if refused
    # Per input row: created, updated, unchanged, or error.
    statuses: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # {index, reasons}
    # Rows saved with a value cut or left out: {index: [warning, ...]}; never a refused row.
    warnings: dict[int, list[str]] = field(default_factory=dict)
    new_company_ids: list[Any] = field(default_factory=list)


@dataclass
class _Row:
    index: int
    data: dict[str, Any]
    domain: str = ""

    @property
    def key(self) -> str:
        return (
            f"ext:{self.data['external_id']}"
            if self.data.get("external_id")
            else (f"email:{self.data['email']}")
        )


def leads_upsert(*, workspace: Workspace, rows: list[dict[str, Any]], source: str) -> UpsertResult:
    result = UpsertResult()
    clean: list[_Row] = []
    for index, raw in enumerate(rows):
        row, reasons, warnings = _clean(index, raw)
        if reasons:
            result.errors.append({"index": index, "reasons": reasons})
        else:
            clean.append(row)
            if warnings:
                result.warnings[index] = warnings
    merged, merged_for = _merge(clean)
    checked = len(result.errors)
    try:
        with transaction.atomic():
            _write(workspace, merged, source, result)
    except IntegrityError:
        # Another import inserted one of these emails between our SELECT and INSERT; the
        # retry sees its row and updates it. (ON CONFLICT cannot target the partial unique
        # indexes on email and external_id.)
        result.created = result.updated = 0
        result.new_company_ids = []
        result.errors = result.errors[:checked]  # the first try's write errors are redone
        with transaction.atomic():
            _write(workspace, merged, source, result)
    refused = {error["index"]: error["reasons"] for error in result.errors}
    result.lead_ids = [None] * len(rows)
    result.statuses = ["error"] * len(rows)
    for row in clean:
        target = merged_for[row.index]
        if target.index in refused:
            if row.index != target.index:  # refused with the row it repeats, for its reasons
                result.errors.append({"index": row.index, "reasons": refused[target.index]})
            continue
        result.lead_ids[row.index] = target.data.get("_lead_id")
        result.statuses[row.index] = target.data.get("_status", "unchanged")
        if row.index != target.index:
            result.duplicates += 1
    result.errors.sort(key=lambda error: error["index"])
    for error in result.errors:
        result.warnings.pop(error["index"], None)
    _score_written(workspace, result)
    return result


def _score_written(workspace: Workspace, result: UpsertResult) -> None:
    from ranking.services import leads_score_after_commit

    written = {
        lead_id
        for lead_id, status in zip(result.lead_ids, result.statuses, strict=True)
        if status in ("created", "updated")
    }
    leads_score_after_commit(workspace=workspace, lead_ids=written)


def _clean(index: int, raw: dict[str, Any]) -> tuple[_Row, list[str], list[str]]:
    """The row as it will be saved, the reasons it cannot be, and what was cut to fit."""
    if not isinstance(raw, dict):
        return _Row(index, {}), ["A lead must be an object of fields."], []
    data: dict[str, Any] = {}
    reasons: list[str] = []
    warnings: list[str] = []
    custom = _custom_fields(raw, warnings)
    text = {
        k: ("" if raw.get(k) is None else str(raw.get(k)).strip())
        for k in ROW_FIELDS - {"custom_fields"}
    }

    if text["email"]:
        try:
            data["email"] = email_normalize(text["email"])
        except InvalidValue as error:
            reasons.append(str(error))
    if text["external_id"]:
        data["external_id"] = text["external_id"]
        if len(text["external_id"]) > MAX_EXTERNAL_ID:
            reasons.append(f"external_id is longer than {MAX_EXTERNAL_ID} characters.")
    if not text["email"] and not text["external_id"]:
        reasons.append("Each lead needs an email or an external_id.")
    if not (text["first_name"] or text["last_name"]) and text["full_name"]:
        text["first_name"], text["last_name"] = split_name(text["full_name"])
    for name, limit in CUT_LENGTHS.items():
        text[name] = _cut(text[name], limit, name, warnings)
    if len(text["phone"]) > MAX_PHONE:
        warnings.append(f"phone is longer than {MAX_PHONE} characters and was left out.")
        text["phone"] = ""
    data.update({name: text[name] for name in ("first_name", "last_name", "title", "phone")})
    reasons += _name_problems(text["first_name"], text["last_name"], text["company_name"])
    for name, check in (("linkedin_url", linkedin_url_normalize), ("timezone", timezone_validate)):
        try:
            data[name] = check(text[name])
        except InvalidValue as error:
            reasons.append(str(error))
    data["opted_out"] = text["status"].lower() in OPT_OUT_STATUSES
    data["seniority"], data["department"] = _title_classify(text["title"])
    data["custom_fields"] = custom
    data["company_name"] = text["company_name"]
    row = _Row(index, data, domain=_company_domain(text, data.get("email", "")))
    if (text["company_domain"] or text["website"]) and not row.domain:
        reasons.append(f"{text['company_domain'] or text['website']!r} is not a company domain.")
    return row, reasons, warnings


def _custom_fields(raw: dict[str, Any], warnings: list[str]) -> dict[str, str]:
    """The row's custom_fields object, plus every key the product does not know."""
    given = raw.get("custom_fields")
    custom: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
    for key, value in raw.items():
        if key not in ROW_FIELDS and value not in (None, ""):
            custom[str(key)] = value
    fitted: dict[str, str] = {}
    for key, value in custom.items():
        name = _cut(str(key), MAX_CUSTOM_KEY, "A custom field's name", warnings)
        fitted[name] = _cut(str(value), MAX_CUSTOM_VALUE, f"Custom field {name!r}", warnings)
    return fitted


def _cut(value: str, limit: int, label: str, warnings: list[str]) -> str:
    """`value` in at most `limit` characters, at the last word break when one is near the
    end, never between a letter and its accent; a warning says what was cut."""
    if len(value) <= limit:
        return value
    end = limit
    while end > 0 and unicodedata.combining(value[end]):
        end -= 1
    space = value.rfind(" ", 0, end + 1)
    if space > limit * 0.8:
        end = space
    warnings.append(f"{label} was longer than {limit:,} characters and was cut.")
    return value[:end].rstrip()


def _name_problems(first: str, last: str, company: str) -> list[str]:
    """Names are written into emails as the lead's own: a row whose name carries markup,
    instructions or look-alike letters is refused with the reason. A company name longer
    than a person's may be is kept (drafting leaves such a name out)."""
    named = [("first_name", first), ("last_name", last), ("company_name", company)]
    return [
        f"{field}: {problem}"
        for field, value in named
        if len(value) <= MAX_NAME_CHARS and (problem := _name_problem(value))
    ]


@lru_cache(maxsize=65536)
def _name_problem(value: str) -> str | None:
    # Names repeat across a file (first names especially): check each once.
    return name_problem(value) if value else None


def _company_domain(text: dict[str, str], email: str) -> str:
    given = text["company_domain"] or text["website"]
    # A valid address has no "://", so its domain part alone gives the same answer.
    domain = _registrable_domain(given or email.rpartition("@")[2]) if given or email else ""
    return "" if not domain or is_free_mail(domain) else domain


def _merge(rows: list[_Row]) -> tuple[list[_Row], dict[int, _Row]]:
    """Rows for the same lead (same external_id, else same email) become one; later
    non-empty values win field by field. Also returns which merged row each input went to."""
    merged: dict[str, _Row] = {}
    email_key: dict[str, str] = {}
    merged_for: dict[int, _Row] = {}
    for row in rows:
        key = row.key
        email = row.data.get("email")
        if key not in merged and email and email in email_key:
            key = email_key[email]
        if key in merged:
            target = merged[key]
            for name, value in row.data.items():
                if name == "opted_out":
                    # As row by row: an opt-out anywhere in the file is kept.
                    target.data[name] = target.data[name] or value
                elif value not in ("", None, {}):
                    target.data[name] = (
                        {**target.data.get(name, {}), **value} if name == "custom_fields" else value
                    )
            target.domain = row.domain or target.domain
        else:
            merged[key] = _Row(row.index, dict(row.data), row.domain)
        merged_for[row.index] = merged[key]
        if email:
            email_key.setdefault(email, key)
    return list(merged.values()), merged_for


def _write(workspace: Workspace, rows: list[_Row], source: str, result: UpsertResult) -> None:
    companies = _companies(workspace, rows, result)
    leads = Lead.objects.for_workspace(workspace)
    ext_ids = [r.data["external_id"] for r in rows if r.data.get("external_id")]
    emails = [r.data["email"] for r in rows if r.data.get("email")]
    existing = list(leads.filter(Q(external_id__any=ext_ids) | Q(email__any=emails)))
    by_ext = {lead.external_id: lead for lead in existing if lead.external_id}
    by_email = {lead.email: lead for lead in existing if lead.email}

    to_create: list[Lead] = []
    to_update: list[tuple[Lead, list[str]]] = []
    opted_out: list[str] = []
    for row in rows:
        data = row.data
        lead = by_ext.get(data.get("external_id", "")) or by_email.get(data.get("email", ""))
        other = by_email.get(data.get("email", ""))
        if lead is not None and other is not None and other.pk != lead.pk:
            result.errors.append(
                {
                    "index": row.index,
                    "reasons": [
                        f"{data['email']} belongs to another lead than external_id "
                        f"{data['external_id']}."
                    ],
                }
            )
            continue
        company_id = companies.get(row.domain)
        if data["opted_out"] and data.get("email"):
            opted_out.append(data["email"])
        if lead is None:
            lead = Lead(
                workspace=workspace,
                source=source,
                company_id=company_id,
                **{k: data[k] for k in LEAD_FIELDS if data.get(k)},
                seniority=data["seniority"],
                department=data["department"],
                custom_fields=data["custom_fields"],
            )
            to_create.append(lead)
            data["_status"] = "created"
        else:
            changed = _apply(lead, data, company_id)
            if changed:
                to_update.append((lead, changed))
            result.updated += 1
            data["_status"] = "updated" if changed else "unchanged"
        data["_lead_id"] = lead.pk
    rows_insert(Lead, to_create)
    rows_update(Lead, [lead for lead, _ in to_update], UPDATABLE)
    result.created += len(to_create)
    activities_record(
        workspace=workspace,
        events=[
            *(Event("lead.created", "lead", lead.pk, {"source": source}) for lead in to_create),
            *(Event("lead.updated", "lead", lead.pk, {"fields": f}) for lead, f in to_update),
        ],
    )
    if opted_out:
        suppressions_add(
            workspace=workspace,
            values=opted_out,
            reason="Marked as opted out in the source data.",
            source=_SUPPRESSION_SOURCE.get(source, Suppression.Source.IMPORT),
        )


def _apply(lead: Lead, data: dict[str, Any], company_id: UUID | None) -> list[str]:
    """Fill in what the row says; an empty cell never erases what we know. Returns the
    names of the fields that changed."""
    changed = []
    for name in [*LEAD_FIELDS, "seniority", "department"]:
        if data.get(name) and getattr(lead, name) != data[name]:
            setattr(lead, name, data[name])
            changed.append(name)
    if data["custom_fields"]:
        merged = {**lead.custom_fields, **data["custom_fields"]}
        if merged != lead.custom_fields:
            lead.custom_fields = merged
            changed.append("custom_fields")
    if company_id is not None and lead.company_id != company_id:
        lead.company_id = company_id
        changed.append("company")
    return changed


def _companies(workspace: Workspace, rows: list[_Row], result: UpsertResult) -> dict[str, UUID]:
    """The id of each row's company by domain, creating those the workspace lacks. Ids only:
    a batch names hundreds of companies, and reading them whole (their research, JSON and
    all) cost more than the rest of the batch's companies work."""
    names = {row.domain: row.data.get("company_name", "") for row in rows if row.domain}
    if not names:
        return {}
    scoped = Company.objects.for_workspace(workspace)
    found = dict(scoped.filter(domain__any=list(names)).values_list("domain", "pk"))
    missing = [
        Company(workspace=workspace, domain=domain, name=name[:200])
        for domain, name in names.items()
        if domain not in found
    ]
    if not missing:
        return found
    # Conflicts ignored: a company another import created meanwhile is simply found below.
    rows_insert(Company, missing, ignore_conflicts=True)
    created = scoped.filter(domain__any=[c.domain for c in missing]).values_list("domain", "pk")
    ours = {m.pk for m in missing}  # not those another import created meanwhile
    new = [(domain, pk) for domain, pk in created if pk in ours]
    result.new_company_ids += [pk for _, pk in new]
    activities_record(
        workspace=workspace,
        events=[Event("company.created", "company", pk, {"domain": domain}) for domain, pk in new],
    )
    found.update(created)
    return found
