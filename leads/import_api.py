"""/api/v1/imports/ (CSV) and /api/v1/leads/bulk-upsert/ (JSON, up to 1,000 leads)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from leads import importing
from leads.enrichment import companies_enqueue_enrichment
from leads.models import ImportJob, Lead
from leads.upsert import leads_upsert
from sdr.api_base import WorkspaceScoped, WorkspaceSerializer, person
from sdr.errors import AppError, ErrorCode
from sdr.http import ApiRequest
from sdr.parsers import JSONInputParser
from sdr.tenancy import TenantQuerySet

MAX_BULK = 1_000


class ImportOutput(WorkspaceSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "filename",
            "status",
            "columns",
            "mapping",
            "total_rows",
            "done_rows",
            "progress",
            "created_count",
            "updated_count",
            "duplicate_count",
            "error_count",
            "warning_count",
            "failure",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, job: ImportJob) -> float:
        return round(job.done_rows / job.total_rows, 3) if job.total_rows else 0.0


class ImportInput(serializers.Serializer):
    file = serializers.FileField()
    mapping = serializers.JSONField(required=False, help_text="{column: lead field}")
    start = serializers.BooleanField(required=False, default=False)


class StartInput(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField(), required=False)


class ImportViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Upload a CSV, check the guessed mapping, start it, watch progress, fetch rejects."""

    model = ImportJob
    serializer_class = ImportOutput
    parser_classes = [MultiPartParser, JSONInputParser]  # the upload is a file

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        # The uploaded file (up to 50 MB a row) is read only by the worker and the report.
        return queryset.defer("content")

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: ImportOutput})
    def create(self, request: ApiRequest) -> Response:
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = importing.import_job_create(
            workspace=request.workspace,
            uploaded_file=data.validated_data["file"],
            user=person(request),
        )
        mapping = data.validated_data.get("mapping")
        if isinstance(mapping, str):  # a multipart form sends it as JSON text
            try:
                mapping = json.loads(mapping)
            except ValueError:
                raise AppError(
                    ErrorCode.INVALID,
                    "The column mapping is not valid JSON.",
                    details={"mapping": ["Send a JSON object of column name to lead field."]},
                ) from None
        if data.validated_data["start"]:
            job = importing.import_job_start(job=job, mapping=mapping)
        elif mapping is not None:
            job = importing.import_job_set_mapping(job=job, mapping=mapping)
        return Response(ImportOutput(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StartInput, responses={202: ImportOutput})
    @action(detail=True, methods=["post"])
    def start(self, request: ApiRequest, pk: str | None = None) -> Response:
        job = self.get_object()
        data = StartInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = importing.import_job_start(job=job, mapping=data.validated_data.get("mapping"))
        return Response(ImportOutput(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def errors(self, request: ApiRequest, pk: str | None = None) -> HttpResponse:
        """The rejected rows as CSV: line, reason, and the row as it was uploaded."""
        job = self.get_object()
        return importing.import_rows_download(job=job, name=f"rejected-{job.pk}.csv")

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def warnings(self, request: ApiRequest, pk: str | None = None) -> HttpResponse:
        """The rows imported with a value cut or left out: line, warning, and the row as
        it was uploaded."""
        job = self.get_object()
        return importing.import_rows_download(job=job, name=f"cut-{job.pk}.csv", kept=True)


class BulkUpsertRow(serializers.Serializer):
    """One lead as the upsert reads it: these fields, and any other key becomes a custom
    field. Matched by `external_id`, then `email`; an empty value never erases one."""

    email = serializers.EmailField(required=False)
    external_id = serializers.CharField(required=False, max_length=200)
    first_name = serializers.CharField(required=False, help_text="Cut to 100 characters")
    last_name = serializers.CharField(required=False, help_text="Cut to 100 characters")
    full_name = serializers.CharField(required=False)
    title = serializers.CharField(required=False, help_text="Cut to 200 characters")
    linkedin_url = serializers.URLField(required=False)
    phone = serializers.CharField(
        required=False, help_text="Left out, with a warning, when over 40 characters"
    )
    timezone = serializers.CharField(required=False, help_text="IANA name")
    status = serializers.CharField(
        required=False, help_text="Only an opt-out is read: it adds a suppression"
    )
    company_name = serializers.CharField(required=False, help_text="Cut to 200 characters")
    company_domain = serializers.CharField(required=False)
    website = serializers.CharField(required=False)
    custom_fields = serializers.DictField(required=False)


class BulkUpsertInput(serializers.Serializer):
    leads = BulkUpsertRow(many=True, help_text=f"1 to {MAX_BULK} leads (a bare list works too)")


# Built with inline_serializer: a declared field named `errors` would shadow
# Serializer.errors.
BulkUpsertItem = inline_serializer(
    "BulkUpsertItem",
    {
        "index": serializers.IntegerField(help_text="The row's position in `leads`"),
        "status": serializers.ChoiceField(["created", "updated", "unchanged", "error"]),
        "lead_id": serializers.UUIDField(allow_null=True),
        "errors": serializers.ListField(child=serializers.CharField()),
        "warnings": serializers.ListField(
            child=serializers.CharField(),
            help_text="What was cut or left out of a saved row to fit (a long title, say)",
        ),
    },
)
BulkUpsertOutput = inline_serializer(
    "BulkUpsertOutput",
    {
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "lead_ids": serializers.ListField(
            child=serializers.UUIDField(allow_null=True), help_text="Per row; null when refused"
        ),
        "errors": serializers.ListField(
            child=serializers.DictField(), help_text="{index, reasons}"
        ),
        "results": serializers.ListField(child=BulkUpsertItem, help_text="One per row, in order"),
    },
)


class BulkUpsertApi(APIView):
    """Create or update up to 1,000 leads, matched by external_id, then email; the new
    companies among them are queued for research."""

    @extend_schema(request=BulkUpsertInput, responses=BulkUpsertOutput)
    def post(self, request: ApiRequest) -> Response:
        # A JSON body may be a list; these stubs type Request.data as a dict only.
        data: Any = request.data
        rows = data.get("leads") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise AppError(ErrorCode.INVALID, 'Send a JSON list of leads, or {"leads": [...]}.')
        if len(rows) > MAX_BULK:
            raise AppError(
                ErrorCode.INVALID,
                f"At most {MAX_BULK} leads per call; got {len(rows)}. Split the batch.",
            )
        result = leads_upsert(workspace=request.workspace, rows=rows, source=Lead.Source.API)
        companies_enqueue_enrichment(
            workspace=request.workspace, company_ids=result.new_company_ids
        )
        reasons = {error["index"]: error["reasons"] for error in result.errors}
        return Response(
            {
                "created": result.created,
                "updated": result.updated,
                "duplicates": result.duplicates,
                "lead_ids": result.lead_ids,
                "errors": result.errors,
                "results": [
                    {
                        "index": index,
                        "status": status,
                        "lead_id": lead_id,
                        "errors": reasons.get(index, []),
                        "warnings": result.warnings.get(index, []),
                    }
                    for index, (status, lead_id) in enumerate(
                        zip(result.statuses, result.lead_ids, strict=True)
                    )
                ],
            }
        )
