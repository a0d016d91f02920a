"""Reads shared by the leads API and web views."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from leads.models import Company, Fact, Lead, Signal, Suppression
from leads.tags import MAX_TAG_LENGTH, tag_filter
from sdr.activity import object_timeline
from sdr.edge import query_uuid
from sdr.errors import InvalidQuery
from sdr.models import Activity, Workspace

# Sort key -> the columns it orders by; id is added last so the order is total (keyset
# paging needs that). Each has an index of the same columns (see Lead.Meta.indexes), but
# "company", which sorts over a join.
LEAD_SORTS = {
    "name": ("last_name", "first_name"),
    "company": ("company__name", "company__domain"),
    "title": ("title",),
    "status": ("status",),
    "created": ("created_at",),
    "score": ("score",),
    "activity": ("last_activity_at",),
}
HAS_EMAIL_CHOICES = ("", "yes", "no")
# The query parameters that say which leads the list shows (not how it sorts or pages).
LEAD_FILTERS = (
    "q",
    "status",
    "seniority",
    "department",
    "score_min",
    "score_max",
    "has_email",
    "industry",
    "signal",
    "signal_within",
    "size",
    "tech",
    "in_campaign",
    "outcome",
    "tag",
)
# The companies list's, likewise.
COMPANY_FILTERS = ("q", "status", "industry", "size", "tech", "signal", "signal_within")
# Company size bands as sales teams name them: employees from, to (None: no upper bound).
SIZE_BANDS = {
    "1-10": (1, 10),
    "11-50": (11, 50),
    "51-200": (51, 200),
    "201-1000": (201, 1000),
    "1001+": (1001, None),
}
# How recent a signal must be, in days.
SIGNAL_AGES = {
    "7": "in the last 7 days",
    "30": "in the last 30 days",
    "90": "in the last 90 days",
    "365": "in the last year",
}
MAX_TECH_LENGTH = 100
# Columns that can be NULL: they sort last in both directions (an unscored lead is never
# "the best" nor "the worst"), which the keyset condition must know.
NULLABLE_SORT_COLUMNS = frozenset({"score", "company__name", "company__domain", "last_activity_at"})


@dataclass(frozen=True)
class ListSort:
    columns: tuple[str, ...]
    descending: bool


def lead_sort(sort: str) -> ListSort:
    """The columns and direction for a sort key ("-created"); an unknown key sorts by the
    newest first, as the list does by default."""
    key = sort.lstrip("-")
    if key not in LEAD_SORTS:
        return ListSort(columns=(*LEAD_SORTS["created"], "id"), descending=True)
    return ListSort(columns=(*LEAD_SORTS[key], "id"), descending=sort.startswith("-"))


def lead_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """The leads list's filters read from its query string, as `lead_list` takes them: what
    the list shows is what its export and bulk actions act on. InvalidQuery (a 400) for a
    value that cannot be a filter."""
    has_email = (params.get("has_email") or "").strip()
    if has_email not in HAS_EMAIL_CHOICES:
        raise InvalidQuery("has_email", f"{has_email[:40]!r} is not one of yes, no.")
    return {
        "search": (params.get("q") or "").strip(),
        "status": params.get("status") or "",
        "seniority": params.get("seniority") or "",
        "department": params.get("department") or "",
        "score_min": score_bound(params, "score_min"),
        "score_max": score_bound(params, "score_max"),
        "has_email": has_email,
        **_company_filters(params),
        # Not "campaign": the bulk form's campaign is the one to add the leads to.
        "campaign_id": query_uuid(params, "in_campaign"),
        "outcome": _choice(params, "outcome", [kind for kind, _ in outcome_kinds()]),
        "tag": tag_param(params),
    }


def tag_param(params: Mapping[str, str]) -> str:
    """The `tag` filter; InvalidQuery (a 400) when longer than a tag can be."""
    return _text(params, "tag", MAX_TAG_LENGTH)


def _company_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """The filters on a company's firmographics and signals, for both lists."""
    return {
        "industry": (params.get("industry") or "").strip(),
        "signal": _choice(params, "signal", Signal.Kind.values),
        "signal_within": int(_choice(params, "signal_within", SIGNAL_AGES) or 0),
        "size": _choice(params, "size", SIZE_BANDS),
        "tech": _text(params, "tech", MAX_TECH_LENGTH),
    }


def company_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """The companies list's filters read from its query string, as `company_list` takes
    them; InvalidQuery (a 400) for a value that cannot be a filter."""
    return {
        "search": (params.get("q") or "").strip(),
        "status": _choice(params, "status", Company.EnrichStatus.values),
        **_company_filters(params),
    }


def _firmographics(
    workspace: Workspace,
    *,
    to_company: str,
    industry: str = "",
    signal: str = "",
    signal_within: int = 0,
    size: str = "",
    tech: str = "",
) -> Q:
    """The company conditions, from rows whose path to their company is `to_company`
    ("company" from a lead, "" from the company itself)."""
    at = f"{to_company}__" if to_company else ""
    condition = Q()
    if industry:
        condition &= Q(**{f"{at}industry__icontains": industry})
    if signal or signal_within:
        condition &= Q(_has_signal(workspace, signal, signal_within, to_company or "pk"))
    if size:
        low, high = SIZE_BANDS[size]
        condition &= Q(**{f"{at}employee_count__gte": low})
        if high is not None:
            condition &= Q(**{f"{at}employee_count__lte": high})
    if tech:
        # The stack is a JSON list of names: match one whole element, quoted as JSON
        # writes it, so "Go" does not find "Google Analytics".
        condition &= Q(**{f"{at}tech_stack__icontains": json.dumps(tech)})
    return condition


def _text(params: Mapping[str, str], name: str, limit: int) -> str:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        raise InvalidQuery(name, f"At most {limit} characters.")
    return value


def _choice(params: Mapping[str, str], name: str, allowed: Iterable[str]) -> str:
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        raise InvalidQuery(name, f"{value[:40]!r} is not one of {', '.join(allowed)}.")
    return value


def _has_signal(workspace: Workspace, kind: str, within_days: int, company: str) -> Exists:
    signals = Signal.objects.for_workspace(workspace).filter(company=OuterRef(company))
    if kind:
        signals = signals.filter(kind=kind)
    if within_days:
        since = timezone.now() - timedelta(days=within_days)
        # A signal without a date counts from when we saw it.
        signals = signals.filter(
            Q(happened_on__gte=since.date()) | Q(happened_on__isnull=True, observed_at__gte=since)
        )
    return Exists(signals)


def score_bound(params: Mapping[str, str], name: str) -> float | None:
    """A score filter bound from the query (`score_min`, `score_max`): a number from 0 to 1,
    or None if absent; InvalidQuery (a 400) otherwise."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN fails this too
        raise InvalidQuery(name, f"{raw[:40]!r} is not a score: a number from 0 to 1.")
    return value


def lead_list(
    *,
    workspace: Workspace,
    search: str = "",
    status: str = "",
    seniority: str = "",
    department: str = "",
    company_id: str = "",
    score_min: float | None = None,
    score_max: float | None = None,
    has_email: str = "",
    industry: str = "",
    signal: str = "",
    signal_within: int = 0,
    size: str = "",
    tech: str = "",
    campaign_id: str = "",
    outcome: str = "",
    tag: str = "",
) -> QuerySet[Lead]:
    """The workspace's leads that match, unordered: the caller orders and pages them.
    `has_email` is "yes", "no" or "" (either); `industry` a part of the company's
    industry; `signal` a kind of signal the company has; `campaign_id` a campaign the lead
    was ever enrolled in; `outcome` a kind of outcome the lead has; `signal_within` days
    since the signal (of that kind, or any) happened; `size` a band of SIZE_BANDS; `tech` a
    technology the company's site uses (its whole name, any case); `tag` a tag the lead
    wears (any case)."""
    leads = Lead.objects.for_workspace(workspace).filter(
        _firmographics(
            workspace,
            to_company="company",
            industry=industry,
            signal=signal,
            signal_within=signal_within,
            size=size,
            tech=tech,
        )
    )
    if campaign_id or outcome:
        leads = leads.filter(_in_outreach(workspace, campaign_id, outcome))
    if tag:
        leads = leads.filter(tag_filter(workspace, tag))
    if has_email:
        leads = leads.exclude(email="") if has_email == "yes" else leads.filter(email="")
    if search:
        leads = leads.filter(_lead_search(workspace, search))
    filters = {
        "status": status,
        "seniority": seniority,
        "department": department,
        "company_id": company_id,
    }
    leads = leads.filter(**{key: value for key, value in filters.items() if value})
    if score_min is not None:
        leads = leads.filter(score__gte=score_min)
    if score_max is not None:
        leads = leads.filter(score__lte=score_max)
    return leads


def _in_outreach(workspace: Workspace, campaign_id: str, outcome: str) -> Q:
    from outreach.models import Enrollment, Outcome

    condition = Q()
    if campaign_id:
        enrolled = Enrollment.objects.for_workspace(workspace).filter(campaign_id=campaign_id)
        condition &= Q(Exists(enrolled.filter(lead=OuterRef("pk"))))
    if outcome:
        outcomes = Outcome.objects.for_workspace(workspace).filter(kind=outcome)
        condition &= Q(Exists(outcomes.filter(lead=OuterRef("pk"))))
    return condition


def _lead_search(workspace: Workspace, search: str) -> Q:
    # The matching companies first, by their own trigram indexes, then their ids as a
    # list: OR-ed with a subquery (or a join), the company condition is one PostgreSQL
    # cannot read from an index, so it walked the list's order filtering every lead, and a
    # search with no match read them all (1.06 s at 250,000 leads, 5.9 s at a million).
    # With a list each condition is a trigram index scan (migration 0006), OR-ed as
    # bitmaps (52 ms). A search matching very many companies matches many leads too, and
    # the list's order finds a page of them soon: the subquery stays for it.
    companies = Company.objects.for_workspace(workspace).filter(
        Q(name__icontains=search) | Q(domain__icontains=search)
    )
    ids = list(companies.values_list("pk", flat=True)[: SEARCH_COMPANY_IDS + 1])
    in_companies = companies.values("pk") if len(ids) > SEARCH_COMPANY_IDS else ids
    return (
        Q(email__icontains=search)
        | Q(first_name__icontains=search)
        | Q(last_name__icontains=search)
        | Q(title__icontains=search)
        | Q(company_id__in=in_companies)
    )


SEARCH_COMPANY_IDS = 1000


# The companies list's order; indexed as (workspace, name, domain, id).
COMPANY_SORT = ("name", "domain", "id")
# The companies list's sortable columns (the last column of each, "id", keeps the order
# total for the keyset pages).
COMPANY_SORTS = {
    "name": ("name", "domain"),
    "domain": ("domain",),
    "industry": ("industry", "name"),
    "size": ("employee_count",),
    "researched": ("enriched_at",),
    "added": ("created_at",),
}
NULLABLE_COMPANY_SORT_COLUMNS = frozenset({"employee_count", "enriched_at"})


def company_sort(sort: str) -> ListSort:
    """The columns and direction for a companies list sort key ("-size"); by name for an
    unknown one."""
    key = sort.lstrip("-")
    if key not in COMPANY_SORTS:
        return ListSort(columns=COMPANY_SORT, descending=False)
    return ListSort(columns=(*COMPANY_SORTS[key], "id"), descending=sort.startswith("-"))


def company_list(
    *, workspace: Workspace, search: str = "", status: str = "", **firmographics: Any
) -> QuerySet[Company]:
    """The workspace's companies that match, by name; `firmographics` as the leads list
    takes them (industry, signal, signal_within, size, tech). Without lead counts:
    counting over every lead to show fifty companies cost 0.4 s at a million leads; see
    `companies_count_leads` for the page's."""
    companies = Company.objects.for_workspace(workspace).filter(
        _firmographics(workspace, to_company="", **firmographics)
    )
    if search:
        companies = companies.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    if status:
        companies = companies.filter(enrich_status=status)
    return companies.order_by(*COMPANY_SORT)


def companies_count_leads(*, workspace: Workspace, companies: Sequence[Company]) -> None:
    """Set `lead_count` on each of these companies (a page of them), in one query."""
    if not companies:
        return
    counts = dict(
        Lead.objects.for_workspace(workspace)
        .filter(company_id__in=[company.pk for company in companies])
        .values("company_id")
        .annotate(n=Count("pk"))
        .values_list("company_id", "n")
    )
    for company in companies:
        # What `.annotate(lead_count=...)` would set, for the page's rows only.
        setattr(company, "lead_count", counts.get(company.pk, 0))  # noqa: B010


def company_facts(*, company: Company) -> QuerySet[Fact]:
    return (
        Fact.objects.for_workspace(company.workspace)
        .filter(company=company, lead__isnull=True)
        .order_by("field", "-confidence", "-observed_at")
    )


def lead_facts(*, lead: Lead) -> QuerySet[Fact]:
    return Fact.objects.for_workspace(lead.workspace).filter(lead=lead).order_by("field")


def company_signals(*, company: Company) -> QuerySet[Signal]:
    return (
        Signal.objects.for_workspace(company.workspace)
        .filter(company=company)
        .order_by("-happened_on", "-observed_at")
    )


COVERAGE_FIELDS = [
    ("name", ~Q(name="")),
    ("description", ~Q(description="")),
    ("industry", ~Q(industry="")),
    ("location", ~Q(location="")),
    ("phone", ~Q(phone="")),
    ("employee_count", Q(employee_count__isnull=False)),
    ("contact_emails", ~Q(contact_emails=[])),
    ("socials", ~Q(socials={})),
    ("tech_stack", ~Q(tech_stack=[])),
    ("open_roles_count", Q(open_roles_count__isnull=False)),
]


def coverage_report(*, workspace: Workspace) -> dict[str, object]:
    """For each company field, how many companies of the workspace have it (one query)."""
    companies = Company.objects.for_workspace(workspace)
    counts = companies.aggregate(
        # distinct: the signals join repeats a company once per signal.
        total=Count("pk", distinct=True),
        enriched=Count("pk", filter=Q(enrich_status=Company.EnrichStatus.DONE), distinct=True),
        with_signals=Count("pk", filter=Q(signals__isnull=False), distinct=True),
        **{
            name: Count("pk", filter=condition, distinct=True)
            for name, condition in COVERAGE_FIELDS
        },
    )
    total = counts["total"] or 0
    fields = [
        {
            "field": name,
            "companies": counts[name],
            "share": round(counts[name] / total, 3) if total else 0.0,
        }
        for name, _ in [*COVERAGE_FIELDS, ("with_signals", None)]
    ]
    return {"companies": total, "enriched": counts["enriched"], "fields": fields}


def funnel_cards(*, workspace: Workspace) -> list[dict[str, object]]:
    from django.urls import reverse

    companies = Company.objects.for_workspace(workspace).aggregate(
        total=Count("pk"),
        researched=Count("pk", filter=Q(enrich_status=Company.EnrichStatus.DONE)),
        failed=Count("pk", filter=Q(enrich_status=Company.EnrichStatus.FAILED)),
    )
    return [
        {
            "label": "Leads",
            "value": Lead.objects.for_workspace(workspace).count(),
            "url": reverse("lead-list"),
        },
        {
            "label": "Companies researched",
            "value": f"{companies['researched']:,} of {companies['total']:,}",
            "note": f"{companies['failed']:,} failed" if companies["failed"] else "",
            "url": reverse("company-list"),
        },
        {
            "label": "Signals found",
            "value": Signal.objects.for_workspace(workspace).count(),
            "url": reverse("coverage"),
        },
    ]


def suppression_list(*, workspace: Workspace, search: str = "") -> QuerySet[Suppression]:
    rows = Suppression.objects.for_workspace(workspace).order_by("-created_at", "-id")
    search = search.strip().lower()
    return rows.filter(value__icontains=search) if search else rows


# The lead's timeline in words. Types not named here still read as words (see `_label`).
TIMELINE_LABELS = {
    "lead.created": "Added as a lead",
    "lead.updated": "Details edited",
    "enrollment.created": "Enrolled in a campaign",
    "enrollment.stopped": "Sequence stopped",
    "enrollment.paused": "Sequence paused",
    "enrollment.resumed": "Sequence resumed",
    "enrollment.lease_expired": "Enrollment work timed out",
    "message.drafted": "Email drafted",
    "message.draft_failed": "Drafting failed",
    "message.approved": "Email approved",
    "message.rejected": "Draft rejected",
    "message.redrafted": "Sent back for a new draft",
    "message.lease_expired": "Drafting timed out",
    "message.sent": "Email sent",
    "outcome.created": "Outcome recorded",
    "lead.tagged": "Tagged",
    "lead.untagged": "Tag removed",
}
TIMELINE_LIMIT = 200


@dataclass(frozen=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    label: str
    detail: str
    actor: str


def lead_timeline(*, lead: Lead, limit: int = TIMELINE_LIMIT) -> list[TimelineEntry]:
    """What happened to the lead, newest first: its own activities and those of its
    enrollments, messages, replies and outcomes, in three queries (their ids, the
    activities, campaign names)."""
    from outreach.models import Enrollment, Message, Outcome, Reply

    workspace = lead.workspace
    scoped = {
        model: model.objects.for_workspace(workspace).filter(**{path: lead})
        for model, path in (
            (Enrollment, "lead"),
            (Message, "enrollment__lead"),
            (Outcome, "lead"),
            (Reply, "lead"),
        )
    }
    # By object ids rather than the payload's "lead": these conditions use the
    # (workspace, object_type, object_id) index, where a payload match would read every
    # activity of the workspace. The ids are read first, as the text activities store
    # (str of a UUID): SQLite's cast of a UUID column drops the dashes, and the demo's
    # timelines showed only "Added as a lead".
    parts = [
        rows.order_by()
        .annotate(object_kind=Value(model._meta.model_name))
        .values_list("object_kind", "pk")
        for model, rows in scoped.items()
    ]
    ids: dict[str, list[str]] = {}
    for kind, pk in parts[0].union(*parts[1:], all=True):
        ids.setdefault(kind, []).append(str(pk))
    rows = object_timeline(workspace=workspace, object_type="lead", object_id=lead.pk)
    for kind, object_ids in ids.items():
        rows |= Activity.objects.for_workspace(workspace).filter(
            object_type=kind, object_id__in=object_ids
        )
    activities = list(rows.order_by("-occurred_at", "-id")[:limit])
    campaigns = _campaign_names(workspace, activities)
    return [
        TimelineEntry(
            occurred_at=activity.occurred_at,
            type=activity.type,
            label=TIMELINE_LABELS.get(activity.type) or _label(activity.type),
            detail=_detail(activity, campaigns),
            actor=activity.actor_label,
        )
        for activity in activities
    ]


def _label(activity_type: str) -> str:
    """ "message.sent_late" reads "Message sent late": never a raw type on a page."""
    return activity_type.replace(".", " ").replace("_", " ").capitalize()


def _campaign_names(workspace: Workspace, activities: list[Activity]) -> dict[str, str]:
    from outreach.models import Campaign

    ids = {a.payload.get("campaign") for a in activities if a.payload.get("campaign")}
    if not ids:
        return {}
    rows = Campaign.objects.for_workspace(workspace).filter(pk__in=ids).values_list("pk", "name")
    return {str(pk): name for pk, name in rows}


def outcome_kinds() -> list[tuple[str, str]]:
    """(value, label) of the outcomes a lead can have (the outreach app's)."""
    from outreach.models import Outcome

    return list(Outcome.Kind.choices)


def _reply_categories() -> dict[str, str]:
    from outreach.models import Reply

    return dict(Reply.Category.choices)


def _detail(activity: Activity, campaigns: dict[str, str]) -> str:
    payload: dict[str, Any] = activity.payload or {}
    parts = []
    if payload.get("campaign") in campaigns:
        parts.append(campaigns[payload["campaign"]])
    if activity.type == "lead.created" and payload.get("source"):
        parts.append(f"from {dict(Lead.Source.choices).get(payload['source'], payload['source'])}")
    if payload.get("fields"):
        parts.append("changed " + ", ".join(str(f).replace("_", " ") for f in payload["fields"]))
    if activity.type == "outcome.created" and payload.get("kind"):
        parts.append(dict(outcome_kinds()).get(payload["kind"], str(payload["kind"])))
    if activity.type.startswith("reply.") and payload.get("category"):
        parts.append(_reply_categories().get(payload["category"], str(payload["category"])))
    if payload.get("tag"):
        parts.append(str(payload["tag"]))
    if payload.get("edited"):
        parts.append("with edits")
    if payload.get("reason"):
        parts.append(str(payload["reason"]))
    return " · ".join(parts)
