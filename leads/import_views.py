"""Web UI for CSV imports: upload, map columns, watch progress, download rejected rows."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leads import importing
from leads.models import ImportJob
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.tenancy import member_required


@member_required
def import_list(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        # The page's script sends the file itself, to show its upload progress, and asks
        # for JSON: where to go next, or what was wrong, to show without leaving the page.
        wants_json = request.headers.get("Accept") == "application/json"
        upload = request.FILES.get("file")
        problem = "Choose a CSV file to upload." if upload is None else ""
        if upload is not None:
            try:
                job = importing.import_job_create(
                    workspace=request.workspace, uploaded_file=upload, user=request.user
                )
            except AppError as error:
                problem = error.message
            else:
                if wants_json:
                    return JsonResponse({"location": reverse("import-detail", args=[job.pk])})
                return redirect("import-detail", pk=job.pk)
        if wants_json:
            return JsonResponse({"error": problem}, status=400)
        messages.error(request, problem)
    jobs = ImportJob.objects.for_workspace(request.workspace).defer("content")[:50]
    return render(
        request,
        "leads/import_list.html",
        {"jobs": jobs, "max_rows": importing.MAX_ROWS, "max_bytes": importing.MAX_BYTES},
    )


@member_required(pk=ImportJob)
def import_detail(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    job = pk
    if job.status == ImportJob.Status.MAPPING:
        preview = importing.import_preview(job=job)
        columns = [
            (
                column,
                job.mapping.get(column, importing.CUSTOM),
                [row[i] for row in preview if i < len(row) and row[i].strip()],
            )
            for i, column in enumerate(job.columns)
        ]
        return render(
            request,
            "leads/import_mapping.html",
            {
                "job": job,
                "columns": columns,
                "targets": importing.TARGET_FIELDS.items(),
            },
        )
    return render(request, "leads/import_progress.html", {"job": job})


@require_POST
@member_required(pk=ImportJob)
def import_start(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    mapping = {
        column: request.POST.get(f"map-{index}", importing.CUSTOM)
        for index, column in enumerate(pk.columns)
    }
    try:
        importing.import_job_start(job=pk, mapping=mapping)
    except AppError as error:
        details = " ".join(" ".join(v) for v in (error.details or {}).values())
        messages.error(request, f"{error.message} {details}".strip())
    return redirect("import-detail", pk=pk.pk)


@member_required(pk=ImportJob)
def import_progress(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    return render(request, "leads/_import_progress.html", {"job": pk})


@member_required(pk=ImportJob)
def import_errors(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    return importing.import_rows_download(job=pk, name=f"rejected-rows-{pk.pk}.csv")


@member_required(pk=ImportJob)
def import_warnings(request: MemberRequest, pk: ImportJob) -> HttpResponse:
    return importing.import_rows_download(job=pk, name=f"cut-rows-{pk.pk}.csv", kept=True)
