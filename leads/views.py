"""Web UI for leads and companies: lists, details with facts, sources and the timeline,
enrich now, erase a person, delete an import, and the suppression list."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leads import bulk, contactability, saved_views, selectors, services, tags
from leads import company_bulk as company_bulk_actions
from leads.enrichment import company_enrich_request
from leads.erasure import lead_erase
from leads.import_deletion import import_job_delete
from leads.models import Company, ImportJob, Lead, SavedView, Signal, Suppression
from leads.titles import DEPARTMENT_RULES
from leads.upsert import LEAD_FIELDS
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.pagination import keyset_page
from sdr.tenancy import member_required

PAGE_SIZE = 50
# Where a list is in its pages: a position (keyset cursor) or a page number to jump to.
PAGE_PARAMS = frozenset({"cursor", "page"})


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@member_required
def lead_list(request: MemberRequest) -> HttpResponse:
    from outreach.selectors import campaign_choices

    params = request.GET
    sort = params.get("sort", "-created")
    if sort.lstrip("-") not in selectors.LEAD_SORTS:
        sort = "-created"
    leads = selectors.lead_list(workspace=request.workspace, **selectors.lead_filters(params))
    order = selectors.lead_sort(sort)
    page = keyset_page(
        leads.select_related("company").prefetch_related("tags"),
        columns=order.columns,
        descending=order.descending,
        token=params.get("cursor", ""),
        jump=params.get("page", ""),
        size=PAGE_SIZE,
        nullable=selectors.NULLABLE_SORT_COLUMNS,
    )
    context = {
        "page": page,
        "params": params,
        "sort": sort,
        "statuses": Lead.Status.choices,
        "seniorities": [c for c in Lead.Seniority.choices if c[0]],
        "departments": sorted(name for name, _ in DEPARTMENT_RULES),
        "querystring": _querystring(params, drop=PAGE_PARAMS),
        "sort_querystring": _querystring(params, drop={*PAGE_PARAMS, "sort"}),
        "filter_fields": _filter_fields(params),
        "campaigns": campaign_choices(workspace=request.workspace, open_only=True),
        "all_campaigns": campaign_choices(workspace=request.workspace),
        **_firmographic_choices(),
        "outcome_kinds": selectors.outcome_kinds(),
        "can_manage": request.membership.can_manage,
        "saved_views": SavedView.objects.for_workspace(request.workspace),
        "tags": tags.tag_choices(request.workspace),
    }
    template = "leads/_lead_table.html" if _is_htmx(request) else "leads/lead_list.html"
    return render(request, template, context)


def _filter_fields(
    params: QueryDict, names: Iterable[str] = selectors.LEAD_FILTERS
) -> list[tuple[str, str]]:
    """A list's filters as set in `params`, to carry them through a form or a redirect."""
    return [(name, str(params.get(name))) for name in names if params.get(name)]


@require_POST
@member_required
def saved_view_save(request: MemberRequest) -> HttpResponseBase:
    """Keep the list's current filters under a name (the form carries them), and show it."""
    try:
        view = saved_views.saved_view_create(
            workspace=request.workspace,
            by=request.user,
            name=request.POST.get("name", ""),
            params=request.POST,
        )
    except AppError as error:
        messages.error(request, error.message)
        return redirect(_list_url(saved_views.safe_query(request.POST)))
    messages.success(request, f"Saved the view {view.name}.")
    return redirect(_list_url(view.query))


@require_POST
@member_required(pk=SavedView)
def saved_view_delete(request: MemberRequest, pk: SavedView) -> HttpResponseBase:
    try:
        saved_views.saved_view_delete(view=pk, by=request.membership)
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Deleted the view {pk.name}.")
    return redirect("lead-list")


def _list_url(query: str) -> str:
    return reverse("lead-list") + (f"?{query}" if query else "")


@member_required
def lead_export(request: MemberRequest) -> StreamingHttpResponse:
    """The leads the list's filters match, as CSV (the current view)."""
    leads = selectors.lead_list(workspace=request.workspace, **selectors.lead_filters(request.GET))
    return _csv_download(bulk.leads_export_csv(leads))


def _csv_download(lines: Iterator[str]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="leads.csv"'
    return response


@require_POST
@member_required
def lead_bulk(request: MemberRequest) -> HttpResponseBase:
    """A bulk action from the leads list on the ticked leads or all that match its filters;
    back to the list, with the same filters, saying what was done and what was skipped."""
    params, workspace = request.POST, request.workspace
    leads = bulk.leads_selected(workspace=workspace, params=params)
    if params.get("action") == "export":
        return _csv_download(bulk.leads_export_csv(leads))
    action = bulk.LEAD_ACTIONS.get(params.get("action", ""))
    if action is None:
        messages.error(request, "Choose what to do with the selected leads.")
    elif action.managers_only and not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins can do that.")
    else:
        selection = bulk.Selection(workspace, leads, params, request.user)
        try:
            messages.success(request, action.run(selection).summary(action.done))
        except AppError as error:
            messages.error(request, error.message)
    query = urlencode(_filter_fields(params))
    return redirect(f"{reverse('lead-list')}{'?' + query if query else ''}")


@require_POST
@member_required
def company_bulk(request: MemberRequest) -> HttpResponseBase:
    """A bulk action from the companies list; back to it with its filters, saying what was
    done and what was skipped."""
    params, workspace = request.POST, request.workspace
    action = params.get("action", "")
    companies = company_bulk_actions.companies_selected(workspace=workspace, params=params)
    if action == "export":
        response = _csv_download(company_bulk_actions.companies_export_csv(companies))
        response["Content-Disposition"] = 'attachment; filename="companies.csv"'
        return response
    try:
        if action == "research":
            result = company_bulk_actions.companies_research(
                workspace=workspace, companies=companies
            )
            done = "Researching {n} again; each page updates when its research ends"
        elif action == "suppress":
            result = company_bulk_actions.companies_suppress(
                workspace=workspace, companies=companies, user=request.user
            )
            done = "Suppressed {n}: nobody there is emailed again"
        elif action == "enroll":
            result = company_bulk_actions.companies_enroll(
                workspace=workspace, companies=companies, campaign_id=params.get("campaign", "")
            )
            done = "Added {leads} at these companies to the campaign"
        else:
            messages.error(request, "Choose what to do with the selected companies.")
            result, done = None, ""
    except AppError as error:
        messages.error(request, error.message)
    else:
        if result is not None:
            noun = f"{result.acted_on:,} compan{'y' if result.acted_on == 1 else 'ies'}"
            messages.success(request, result.summary(done.replace("{n}", noun)))
    kept = _filter_fields(params, selectors.COMPANY_FILTERS)
    return redirect(f"{reverse('company-list')}{'?' + urlencode(kept) if kept else ''}")


def _querystring(params: QueryDict, *, drop: Iterable[str]) -> str:
    kept = params.copy()
    for key in drop:
        kept.pop(key, None)
    return kept.urlencode()


@member_required(pk=Lead)
def lead_detail(request: MemberRequest, pk: Lead) -> HttpResponse:
    lead = pk
    company = lead.company
    context = {
        "lead": lead,
        "lead_facts": selectors.lead_facts(lead=lead),
        "company": company,
        "company_facts": selectors.company_facts(company=company) if company else [],
        "signals": selectors.company_signals(company=company) if company else [],
        "timeline": selectors.lead_timeline(lead=lead),
    }
    return render(request, "leads/lead_detail.html", context)


LEAD_FORM_FIELDS = ("email", "first_name", "last_name", "title", "company_domain", "linkedin_url")


@member_required
def lead_add(request: MemberRequest) -> HttpResponse:
    errors: list[str] = []
    existing = None
    if request.method == "POST":
        row = {key: request.POST.get(key, "").strip() for key in LEAD_FORM_FIELDS}
        try:
            lead = services.lead_create(
                workspace=request.workspace, row=row, source=Lead.Source.WEB
            )
        except AppError as error:
            details = error.details if isinstance(error.details, dict) else {}
            errors = details.get("reasons") or [error.message]
            if "lead" in details:  # a conflict: link to the lead that exists
                existing = (
                    Lead.objects.for_workspace(request.workspace).filter(pk=details["lead"]).first()
                )
        else:
            messages.success(request, "Lead saved.")
            return redirect("lead-detail", pk=lead.pk)
    return render(
        request,
        "leads/lead_form.html",
        {"errors": errors, "existing": existing, "values": request.POST},
    )


# What a seller may change on a lead's page: the person's details, not the CRM's id. The
# company follows the address's domain, and the stage is the product's to set.
LEAD_EDIT_FIELDS = tuple(name for name in LEAD_FIELDS if name != "external_id")


@member_required(pk=Lead)
def lead_edit(request: MemberRequest, pk: Lead) -> HttpResponse:
    """Edit a lead's details, checked as the API checks them (names that carry
    instructions or markup are refused), logged as `lead.updated`."""
    from leads.api import LeadInput

    errors: list[str] = []
    values: Mapping[str, Any] = {name: getattr(pk, name) for name in LEAD_EDIT_FIELDS}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in LEAD_EDIT_FIELDS}
        changed = {name: value for name, value in values.items() if value != getattr(pk, name)}
        form = LeadInput(data=changed, partial=True, context={"request": request})
        if not form.is_valid():
            errors = [
                f"{_field_label(name)}: {' '.join(map(str, problems))}"
                for name, problems in form.errors.items()
            ]
        else:
            try:
                services.lead_update(lead=pk, data=dict(form.validated_data))
            except AppError as error:
                details = error.details if isinstance(error.details, dict) else {}
                errors = [error.message, *(str(p) for ps in details.values() for p in ps)]
            else:
                messages.success(request, "Lead saved." if changed else "Nothing changed.")
                return redirect("lead-detail", pk=pk.pk)
    return render(request, "leads/lead_form.html", {"errors": errors, "values": values, "lead": pk})


def _field_label(name: str) -> str:
    return "LinkedIn URL" if name == "linkedin_url" else name.replace("_", " ").capitalize()


@require_POST
@member_required(pk=Lead)
def lead_erase_view(request: MemberRequest, pk: Lead) -> HttpResponse:
    if not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins can erase a person.")
    lead_erase(lead=pk)
    messages.success(
        request,
        "The person is erased. Only a hash of their address is kept, so they are never "
        "imported and written to again.",
    )
    return redirect("lead-list")


@require_POST
@member_required(pk=ImportJob)
def import_delete(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    """Delete an import that is not running. Owners and admins may delete any; a member
    the imports they uploaded (an upload of theirs that failed should not need an admin)."""
    if not (request.membership.can_manage or pk.created_by_id == request.user.pk):
        raise PermissionDenied("Only owners, admins and the person who uploaded it can delete it.")
    try:
        import_job_delete(job=pk)
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Deleted the import of {pk.filename}.")
    return redirect("import-list")


@member_required
def company_list(request: MemberRequest) -> HttpResponse:
    from outreach.selectors import campaign_choices

    companies = selectors.company_list(
        workspace=request.workspace, **selectors.company_filters(request.GET)
    )
    sort = request.GET.get("sort", "name")
    if sort.lstrip("-") not in selectors.COMPANY_SORTS:
        sort = "name"
    order = selectors.company_sort(sort)
    page = keyset_page(
        companies,
        columns=order.columns,
        descending=order.descending,
        token=request.GET.get("cursor", ""),
        jump=request.GET.get("page", ""),
        size=PAGE_SIZE,
        nullable=selectors.NULLABLE_COMPANY_SORT_COLUMNS,
    )
    selectors.companies_count_leads(workspace=request.workspace, companies=page.rows)
    return render(
        request,
        "leads/company_list.html",
        {
            "page": page,
            "params": request.GET,
            "statuses": Company.EnrichStatus.choices,
            "querystring": _querystring(request.GET, drop=PAGE_PARAMS),
            "sort": sort,
            "sort_querystring": _querystring(request.GET, drop={*PAGE_PARAMS, "sort"}),
            "campaigns": campaign_choices(workspace=request.workspace, open_only=True),
            "filter_fields": _filter_fields(request.GET, selectors.COMPANY_FILTERS),
            **_firmographic_choices(),
        },
    )


def _firmographic_choices() -> dict[str, object]:
    return {
        "signal_kinds": Signal.Kind.choices,
        "signal_ages": list(selectors.SIGNAL_AGES.items()),
        "size_bands": list(selectors.SIZE_BANDS),
    }


@member_required(pk=Company)
def company_detail(request: MemberRequest, pk: Company) -> HttpResponse:
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
def company_enrich(request: MemberRequest, pk: Company) -> HttpResponse:
    try:
        company_enrich_request(company=pk)
    except AppError as error:
        refusal = error.message
    else:
        refusal = ""
    if _is_htmx(request):
        pk.refresh_from_db()
        return render(request, "leads/_enrich_status.html", {"company": pk, "refusal": refusal})
    if refusal:
        messages.info(request, refusal)
    else:
        messages.success(request, f"Research of {pk} is queued.")
    return redirect("company-detail", pk=pk.pk)


@member_required(pk=Company)
def company_enrich_status(request: MemberRequest, pk: Company) -> HttpResponse:
    return render(request, "leads/_enrich_status.html", {"company": pk})


@member_required
def coverage(request: MemberRequest) -> HttpResponse:
    report = selectors.coverage_report(workspace=request.workspace)
    return render(request, "leads/coverage.html", {"report": report})


@member_required
def suppression_list(request: MemberRequest) -> HttpResponse:
    """The suppression list: search it, add one, upload a CSV file of them."""
    upload_errors: list[dict] = []
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                result = services.suppressions_import_csv(
                    workspace=request.workspace,
                    content=upload.read(),
                    reason=reason,
                    source=Suppression.Source.UI,
                    user=request.user,
                )
                upload_errors = result.errors
                messages.success(
                    request,
                    f"Added {len(result.created)}; {len(result.existing)} were already on "
                    f"the list; {len(result.errors)} could not be read.",
                )
            else:
                row, created = contactability.suppression_add(
                    workspace=request.workspace,
                    value=request.POST.get("value", ""),
                    reason=reason,
                    source=Suppression.Source.UI,
                    user=request.user,
                )
                messages.success(
                    request, f"Added {row}." if created else f"{row} was already on the list."
                )
        except AppError as error:
            messages.error(request, error.message)
        if not upload_errors:
            return redirect("suppression-list")
    rows = selectors.suppression_list(
        workspace=request.workspace, search=request.GET.get("q", "")
    ).select_related("created_by")
    return render(
        request,
        "leads/suppression_list.html",
        {
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "params": request.GET,
            "querystring": _querystring(request.GET, drop={"page"}),
            "upload_errors": upload_errors,
            "can_manage": request.membership.can_manage,
        },
    )


@require_POST
@member_required(pk=Suppression)
def suppression_lift(request: MemberRequest, pk: Suppression) -> HttpResponse:
    try:
        contactability.suppression_lift(suppression=pk, can_manage=request.membership.can_manage)
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Lifted the suppression of {pk}.")
    return redirect("suppression-list")
