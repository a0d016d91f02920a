"""Web UI for leads and companies: lists, details with facts and sources, enrich now."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from leads import selectors
from leads.enrichment import companies_enqueue_enrichment
from leads.models import Company, Lead
from sdr.tenancy import member_required

PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@member_required
def lead_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    leads = selectors.lead_list(
        workspace=request.workspace,
        search=params.get("q", "").strip(),
        status=params.get("status", ""),
        seniority=params.get("seniority", ""),
        department=params.get("department", ""),
        sort=params.get("sort", "-created"),
    )
    page = Paginator(leads, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "params": params,
        "sort": params.get("sort", "-created"),
        "statuses": Lead.Status.choices,
        "seniorities": [c for c in Lead.Seniority.choices if c[0]],
        "querystring": _querystring(params, drop={"page"}),
        "sort_querystring": _querystring(params, drop={"page", "sort"}),
    }
    template = "leads/_lead_table.html" if _is_htmx(request) else "leads/lead_list.html"
    return render(request, template, context)


def _querystring(params, *, drop: set[str]) -> str:
    kept = params.copy()
    for key in drop:
        kept.pop(key, None)
    return kept.urlencode()


@member_required(pk=Lead)
def lead_detail(request: HttpRequest, pk: Lead) -> HttpResponse:
    lead = pk
    company = lead.company
    context = {
        "lead": lead,
        "lead_facts": selectors.lead_facts(lead=lead),
        "company": company,
        "company_facts": selectors.company_facts(company=company) if company else [],
        "signals": selectors.company_signals(company=company) if company else [],
    }
    return render(request, "leads/lead_detail.html", context)


@member_required
def lead_add(request: HttpRequest) -> HttpResponse:
    from leads.upsert import leads_upsert

    errors: list[str] = []
    if request.method == "POST":
        row = {
            key: request.POST.get(key, "").strip()
            for key in (
                "email",
                "first_name",
                "last_name",
                "title",
                "company_domain",
                "linkedin_url",
            )
        }
        result = leads_upsert(workspace=request.workspace, rows=[row], source=Lead.Source.WEB)
        if not result.errors:
            messages.success(request, "Lead saved.")
            return redirect("lead-detail", pk=result.lead_ids[0])
        errors = [reason for error in result.errors for reason in error["reasons"]]
    return render(request, "leads/lead_form.html", {"errors": errors, "values": request.POST})


@member_required
def company_list(request: HttpRequest) -> HttpResponse:
    companies = selectors.company_list(
        workspace=request.workspace,
        search=request.GET.get("q", "").strip(),
        status=request.GET.get("status", ""),
    )
    page = Paginator(companies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "leads/company_list.html",
        {
            "page": page,
            "params": request.GET,
            "statuses": Company.EnrichStatus.choices,
            "querystring": _querystring(request.GET, drop={"page"}),
        },
    )


@member_required(pk=Company)
def company_detail(request: HttpRequest, pk: Company) -> HttpResponse:
    company = pk
    facts = list(selectors.company_facts(company=company))
    chosen = {source.get("fact") for source in company.field_sources.values()}
    return render(
        request,
        "leads/company_detail.html",
        {
            "company": company,
            "facts": facts,
            "chosen_fact_ids": chosen,
            "signals": selectors.company_signals(company=company),
            "leads": company.leads.order_by("last_name", "first_name"),
            "field_sources": sorted(company.field_sources.items()),
        },
    )


@require_POST
@member_required(pk=Company)
def company_enrich(request: HttpRequest, pk: Company) -> HttpResponse:
    companies_enqueue_enrichment(workspace=request.workspace, company_ids=[pk.pk])
    if _is_htmx(request):
        pk.refresh_from_db()
        return render(request, "leads/_enrich_status.html", {"company": pk})
    messages.success(request, f"Research of {pk} is queued.")
    return redirect("company-detail", pk=pk.pk)


@member_required(pk=Company)
def company_enrich_status(request: HttpRequest, pk: Company) -> HttpResponse:
    return render(request, "leads/_enrich_status.html", {"company": pk})


@member_required
def coverage(request: HttpRequest) -> HttpResponse:
    report = selectors.coverage_report(workspace=request.workspace)
    return render(request, "leads/coverage.html", {"report": report})
