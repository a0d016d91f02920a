"""Reads shared by the leads API and web views."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from leads.models import Company, Fact, Lead, Signal
from sdr.models import Workspace

LEAD_SORTS = {
    "name": ("last_name", "first_name"),
    "company": ("company__name", "company__domain"),
    "title": ("title",),
    "status": ("status",),
    "created": ("created_at",),
}


def lead_list(
    *,
    workspace: Workspace,
    search: str = "",
    status: str = "",
    seniority: str = "",
    department: str = "",
    company_id: str = "",
    sort: str = "-created",
) -> QuerySet[Lead]:
    leads = Lead.objects.for_workspace(workspace).select_related("company")
    if search:
        leads = leads.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(title__icontains=search)
            | Q(company__name__icontains=search)
            | Q(company__domain__icontains=search)
        )
    filters = {
        "status": status,
        "seniority": seniority,
        "department": department,
        "company_id": company_id,
    }
    leads = leads.filter(**{key: value for key, value in filters.items() if value})
    descending = sort.startswith("-")
    columns = LEAD_SORTS.get(sort.lstrip("-"), LEAD_SORTS["created"])
    return leads.order_by(*[("-" if descending else "") + c for c in columns], "-id")


def company_list(*, workspace: Workspace, search: str = "", status: str = "") -> QuerySet[Company]:
    companies = Company.objects.for_workspace(workspace).annotate(
        lead_count=Count("leads", distinct=True)
    )
    if search:
        companies = companies.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    if status:
        companies = companies.filter(enrich_status=status)
    return companies.order_by("name", "domain")


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
        total=Count("pk"), researched=Count("pk", filter=Q(enrich_status="done"))
    )
    return [
        {
            "label": "Leads",
            "value": Lead.objects.for_workspace(workspace).count(),
            "url": reverse("lead-list"),
        },
        {
            "label": "Companies researched",
            "value": f"{companies['researched']} / {companies['total']}",
            "url": reverse("company-list"),
        },
        {
            "label": "Signals found",
            "value": Signal.objects.for_workspace(workspace).count(),
            "url": reverse("coverage"),
        },
    ]
