"""/api/v1/ for companies, leads, facts, signals and suppressions.

Each viewset names its operations: companies are listed, read, created and edited;
leads the same, and deleted only as an erasure; facts and signals are read-only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from leads import contactability, selectors, services
from leads.enrichment import companies_enqueue_enrichment, company_enrich_request
from leads.erasure import lead_erase
from leads.models import Company, Fact, Lead, Signal, Suppression
from leads.tags import MAX_TAGS_A_CALL, lead_tags_change
from sdr.api_base import (
    WorkspaceScoped,
    WorkspaceSerializer,
    can_manage,
    validated,
)
from sdr.api_base import person as _person
from sdr.edge import query_uuid
from sdr.errors import AppError, ErrorCode
from sdr.http import ApiRequest
from sdr.json_rows import JsonObject, blank_if_null, fields_json, page_response, rows_as_json
from sdr.pagination import CreatedCursorPagination
from sdr.tenancy import TenantQuerySet

MAX_BULK_SUPPRESS = 10_000


class CompanyOutput(WorkspaceSerializer):
    lead_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "domain",
            "name",
            "website",
            "description",
            "industry",
            "employee_count",
            "location",
            "country",
            "phone",
            "contact_emails",
            "socials",
            "tech_stack",
            "open_roles_count",
            "custom_fields",
            "field_sources",
            "enrich_status",
            "enrich_error",
            "enriched_at",
            "lead_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# A company of the list as PostgreSQL writes it (sdr/json_rows.py), its leads counted for
# the page's rows only: grouping every lead of the workspace to show fifty companies cost
# 286x the bare query at a million leads. A test compares it with CompanyOutput.
COMPANY_JSON = fields_json(
    Company,
    CompanyOutput.Meta.fields,
    lead_count=RawSQL(
        "(SELECT count(*) FROM leads_lead l WHERE l.company_id = leads_company.id "
        "AND l.workspace_id = leads_company.workspace_id)",
        [],
    ),
)


class CompanyInput(serializers.Serializer):
    domain = serializers.CharField(max_length=500, help_text="Domain or website URL")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    website = serializers.URLField(max_length=500, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    industry = serializers.CharField(max_length=120, required=False, allow_blank=True)
    employee_count = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    custom_fields = serializers.DictField(required=False)
    enrich = serializers.BooleanField(
        required=False, default=True, help_text="Research the company right away"
    )

    def validate_name(self, value: str) -> str:
        return _checked_name(value)


class CompanyUpdateInput(CompanyInput):
    # None removes the inherited field (DRF's SerializerMetaclass); the stubs cannot say so.
    domain = None  # type: ignore[assignment]
    enrich = None  # type: ignore[assignment]


class LeadOutput(WorkspaceSerializer):
    company_domain = serializers.CharField(source="company.domain", read_only=True, default="")
    tags = serializers.SlugRelatedField(  # type: ignore[var-annotated]
        many=True,
        read_only=True,
        slug_field="name",
        help_text="The team's labels on the lead, by name (put on and taken off in the web "
        "UI's leads list).",
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "title",
            "seniority",
            "department",
            "linkedin_url",
            "phone",
            "timezone",
            "status",
            "source",
            "external_id",
            "custom_fields",
            "company",
            "company_domain",
            "score",
            "score_reasons",
            "score_basis",
            "scored_at",
            "last_activity_at",
            "tags",
            "created_at",
            "updated_at",
        ]
        # All output; the score fields are the product's (the ranking writes them), and
        # LeadInput has none of them, so no sync can write one.
        read_only_fields = fields


# A lead of the list as PostgreSQL writes it (sdr/json_rows.py); a test compares it with
# LeadOutput on varied leads.
LEAD_JSON = fields_json(
    Lead,
    LeadOutput.Meta.fields,
    company_domain=blank_if_null("company__domain"),
    # By name, as the serializer's ordered relation gives them; the lead's own workspace.
    tags=RawSQL(
        "COALESCE((SELECT json_agg(t.name ORDER BY t.name) FROM leads_leadtag lt "
        "JOIN leads_tag t ON t.id = lt.tag_id WHERE lt.lead_id = leads_lead.id "
        "AND lt.workspace_id = leads_lead.workspace_id), '[]'::json)",
        [],
    ),
)


class LeadInput(WorkspaceSerializer):
    status = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="Only an opt-out is read (unsubscribed, do_not_contact, bounced, DNC): it "
        "adds a suppression of the lead's address. Other values are ignored: the lead's "
        "stage is set by the product, and nothing lifts a suppression but its removal.",
    )

    class Meta:
        model = Lead
        fields = [
            "email",
            "first_name",
            "last_name",
            "title",
            "linkedin_url",
            "phone",
            "timezone",
            "status",
            "external_id",
            "custom_fields",
            "company",
        ]
        extra_kwargs = {name: {"required": False} for name in fields}

    def validate_first_name(self, value: str) -> str:
        return _checked_name(value)

    def validate_last_name(self, value: str) -> str:
        return _checked_name(value)


def _tag_names(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        default=list,
        max_length=MAX_TAGS_A_CALL,
        help_text=help_text,
    )


class LeadTagsInput(serializers.Serializer):
    add = _tag_names("Tag names to put on the lead (any case; a new name makes a new tag)")
    remove = _tag_names("Tag names to take off the lead (any case; one it does not wear is fine)")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["add"] and not attrs["remove"]:
            raise ValidationError("Give tags to add, to remove, or both.")
        return attrs


def _checked_name(value: str) -> str:
    # Names are written into emails as the lead's own: refuse what is not a name.
    from leads.names import name_problem

    problem = name_problem(value) if value else None
    if problem:
        raise serializers.ValidationError(problem)
    return value


class FactOutput(WorkspaceSerializer):
    class Meta:
        model = Fact
        fields = [
            "id",
            "company",
            "lead",
            "field",
            "value",
            "source_url",
            "source_kind",
            "evidence",
            "confidence",
            "extractor",
            "observed_at",
        ]
        read_only_fields = fields


class SignalOutput(WorkspaceSerializer):
    class Meta:
        model = Signal
        fields = [
            "id",
            "company",
            "kind",
            "title",
            "happened_on",
            "amount",
            "currency",
            "details",
            "source_url",
            "evidence",
            "observed_at",
        ]
        read_only_fields = fields


def _param(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            _param("search", "name or domain contains"),
            _param("enrich_status", "never, queued, running, done, failed"),
        ]
    ),
    create=extend_schema(request=CompanyInput, responses={201: CompanyOutput}),
    partial_update=extend_schema(request=CompanyUpdateInput, responses=CompanyOutput),
)
class CompanyViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Companies: list, read, create (queued for research), edit, research again, coverage.
    No delete: a company is where its leads' facts came from."""

    model = Company
    serializer_class = CompanyOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        if self.action != "list":
            # One company: counting its leads here is one index range.
            queryset = queryset.annotate(lead_count=Count("leads"))
        params = self.request.query_params
        if params.get("search"):
            search = params["search"]
            queryset = queryset.filter(Q(domain__icontains=search) | Q(name__icontains=search))
        if params.get("enrich_status"):
            queryset = queryset.filter(enrich_status=params["enrich_status"])
        return queryset

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        if rows_as_json():
            companies = self.get_queryset().values("created_at", json=JsonObject(COMPANY_JSON))
            rows = self.paginate_queryset(companies)
            assert rows is not None  # a pagination class is set
            return page_response(self.paginator, [row["json"] for row in rows])
        # Leads are counted for the page's companies only (as COMPANY_JSON does).
        page = self.paginate_queryset(self.get_queryset())
        assert page is not None
        selectors.companies_count_leads(workspace=self.request.workspace, companies=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request: ApiRequest) -> Response:
        data = validated(CompanyInput, request.data)
        enrich = data.pop("enrich", True)
        company = services.company_create(workspace=request.workspace, **data)
        if enrich:
            companies_enqueue_enrichment(workspace=request.workspace, company_ids=[company.pk])
        return Response(self._output(company), status=status.HTTP_201_CREATED)

    def partial_update(self, request: ApiRequest, pk: str | None = None) -> Response:
        company = self.get_object()  # 404 for another workspace's id, before validation
        data = validated(CompanyUpdateInput, request.data, partial=True)
        company = services.company_update(company=company, data=data)
        return Response(self._output(company))

    @extend_schema(request=None, responses={202: CompanyOutput})
    @action(detail=True, methods=["post"])
    def enrich(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Research the company again now (re-runs also happen on a schedule). A queued
        company is queued again; one whose run stopped is taken back; 409 while a live run
        holds it."""
        company = company_enrich_request(company=self.get_object())
        return Response(self._output(company), status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["get"])
    def coverage(self, request: ApiRequest) -> Response:
        """For each company field, the share of this workspace's companies that have it."""
        return Response(selectors.coverage_report(workspace=request.workspace))

    def _output(self, company: Company) -> dict:
        return CompanyOutput(self.get_queryset().get(pk=company.pk)).data


LEAD_API_ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "-score": ("-score", "-id"),
}


class LeadCursorPagination(CreatedCursorPagination):
    """Newest first, or best scored first with `?ordering=-score`; any other is a 400."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        raw = request.query_params.get("ordering") or "-created_at"
        if raw not in LEAD_API_ORDERINGS:
            message = f"One of {', '.join(LEAD_API_ORDERINGS)}."
            raise ValidationError({"ordering": [message]})
        return LEAD_API_ORDERINGS[raw]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            _param("search", "name, email, title or company contains"),
            _param("status", "lead status"),
            _param("seniority", "derived from title"),
            _param("department", "derived from title"),
            _param("company", "company id"),
            _param("tag", "wears the tag of this name (any case)"),
            OpenApiParameter(
                "score_min",
                OpenApiTypes.FLOAT,
                OpenApiParameter.QUERY,
                description="leads scored at least this (0 to 1)",
            ),
            OpenApiParameter(
                "score_max",
                OpenApiTypes.FLOAT,
                OpenApiParameter.QUERY,
                description="leads scored at most this (0 to 1)",
            ),
            OpenApiParameter(
                "ordering",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=list(LEAD_API_ORDERINGS),
                description="-created_at (default, newest first) or -score (scored leads "
                "only, best first)",
            ),
        ]
    ),
    create=extend_schema(request=LeadInput, responses={201: LeadOutput}),
    partial_update=extend_schema(request=LeadInput, responses=LeadOutput),
    destroy=extend_schema(responses={204: None}),
)
class LeadViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Leads: list, read, create one (409 if it exists: upserting many is
    `POST /leads/bulk-upsert/`), edit, and erase (DELETE)."""

    model = Lead
    serializer_class = LeadOutput
    pagination_class = LeadCursorPagination

    def scope_queryset(self, queryset: TenantQuerySet) -> QuerySet[Lead]:
        params = self.request.query_params
        leads = selectors.lead_list(
            workspace=self.request.workspace,
            search=params.get("search", ""),
            status=params.get("status", ""),
            seniority=params.get("seniority", ""),
            department=params.get("department", ""),
            company_id=query_uuid(params, "company"),
            score_min=selectors.score_bound(params, "score_min"),
            score_max=selectors.score_bound(params, "score_max"),
            tag=selectors.tag_param(params),
        )
        if self.action != "list":
            return leads.select_related("company").prefetch_related("tags")
        if params.get("ordering") == "-score":
            # PostgreSQL sorts NULLs first in a descending order, and a cursor cannot step
            # past them: the best-first order is of the scored leads.
            leads = leads.filter(score__isnull=False)
        if not rows_as_json():  # the serializer writes the list (SQLite: the demo)
            leads = leads.select_related("company").prefetch_related("tags")
        return leads

    def list(self, request: ApiRequest, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        if not rows_as_json():
            return super().list(request, *args, **kwargs)
        # The ordering's columns for the cursor, and each lead as its JSON.
        leads = self.get_queryset().values("created_at", "score", "id", json=JsonObject(LEAD_JSON))
        rows = self.paginate_queryset(leads)
        assert rows is not None  # a pagination class is set
        return page_response(self.paginator, [row["json"] for row in rows])

    def create(self, request: ApiRequest) -> Response:
        data = validated(LeadInput, request.data, context=self.get_serializer_context())
        company = data.pop("company", None)
        row = {**data, "company_domain": company.domain} if company else data
        lead = services.lead_create(workspace=request.workspace, row=row, source=Lead.Source.API)
        return Response(LeadOutput(lead).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: ApiRequest, pk: str | None = None) -> Response:
        lead = self.get_object()  # 404 for another workspace's id, before validation
        data = validated(
            LeadInput, request.data, partial=True, context=self.get_serializer_context()
        )
        lead = services.lead_update(lead=lead, data=data)
        return Response(LeadOutput(lead).data)

    @extend_schema(request=LeadTagsInput, responses=LeadOutput)
    @action(detail=True, methods=["post"])
    def tags(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Put tags on the lead and take tags off it, in one call; answers the lead with
        its tags. Each change is in the feed (`lead.tagged`, `lead.untagged`) with this
        API key as its actor, so a sync job can pass over its own changes."""
        lead = self.get_object()  # 404 for another workspace's id, before validation
        data = validated(LeadTagsInput, request.data)
        lead_tags_change(
            workspace=request.workspace, lead_id=lead.pk, add=data["add"], remove=data["remove"]
        )
        return Response(LeadOutput(self.get_queryset().get(pk=lead.pk)).data)

    def destroy(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Erase the person (a data-protection request): the lead, the facts about them,
        their enrollments, drafts and messages. Only a hash of the address is kept, so they
        are never imported and mailed again. Owners, admins and API keys only."""
        lead = self.get_object()
        if not can_manage(request):
            raise AppError(
                ErrorCode.PERMISSION_DENIED,
                "Only an owner or admin of the workspace can erase a person.",
                status_code=403,
            )
        lead_erase(lead=lead)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            _param("company", "company id"),
            _param("lead", "lead id"),
            _param("field", "field name"),
        ]
    )
)
class FactViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Fact
    serializer_class = FactOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        params = self.request.query_params
        filters = {
            "company_id": query_uuid(params, "company"),
            "lead_id": query_uuid(params, "lead"),
            "field": params.get("field"),
        }
        return queryset.filter(**{key: value for key, value in filters.items() if value})


@extend_schema_view(
    list=extend_schema(
        parameters=[_param("company", "company id"), _param("kind", "funding, hiring, ...")]
    )
)
class SignalViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Signal
    serializer_class = SignalOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        params = self.request.query_params
        filters = {"company_id": query_uuid(params, "company"), "kind": params.get("kind")}
        return queryset.filter(**{key: value for key, value in filters.items() if value})


class SuppressionOutput(WorkspaceSerializer):
    value = serializers.CharField(
        allow_null=True, help_text="null for an erased person's entry, kept only as a hash"
    )

    class Meta:
        model = Suppression
        fields = ["id", "kind", "value", "reason", "source", "created_by_label", "created_at"]
        read_only_fields = fields

    def to_representation(self, instance: Suppression) -> dict:
        data = super().to_representation(instance)
        data["value"] = instance.value or None
        return data


class SuppressionInput(serializers.Serializer):
    value = serializers.CharField(max_length=320, help_text="An email address or a domain")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SuppressionBulkInput(serializers.Serializer):
    values = serializers.ListField(
        child=serializers.CharField(max_length=320, allow_blank=True), max_length=MAX_BULK_SUPPRESS
    )
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SuppressionBulkOutput(serializers.Serializer):
    created = serializers.IntegerField()
    existing = serializers.IntegerField()
    # A field, not Serializer.errors: the metaclass takes declared fields out of the class.
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]


@extend_schema_view(
    list=extend_schema(parameters=[_param("search", "address or domain contains")]),
)
class SuppressionViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Addresses and domains never to be written to. Adding is open to every key and
    member; lifting one is an admin's act (API keys act for the workspace's admins)."""

    model = Suppression
    serializer_class = SuppressionOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        search = self.request.query_params.get("search", "").strip().lower()
        return queryset.filter(value__icontains=search) if search else queryset

    @extend_schema(
        request=SuppressionInput, responses={201: SuppressionOutput, 200: SuppressionOutput}
    )
    def create(self, request: ApiRequest) -> Response:
        data = validated(SuppressionInput, request.data)
        row, created = contactability.suppression_add(
            workspace=request.workspace,
            value=data["value"],
            reason=data["reason"],
            source=Suppression.Source.API,
            user=_person(request),
        )
        return Response(
            SuppressionOutput(row).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=SuppressionBulkInput, responses=SuppressionBulkOutput)
    @action(detail=False, methods=["post"])
    def bulk(self, request: ApiRequest) -> Response:
        """Add up to 10,000 at once; each bad value is reported with its index."""
        data = validated(SuppressionBulkInput, request.data)
        result = contactability.suppressions_add(
            workspace=request.workspace,
            values=data["values"],
            reason=data["reason"],
            source=Suppression.Source.API,
            user=_person(request),
        )
        return Response(
            {
                "created": len(result.created),
                "existing": len(result.existing),
                "errors": result.errors,
            }
        )

    @extend_schema(responses={204: None})
    def destroy(self, request: ApiRequest, pk: str | None = None) -> Response:
        contactability.suppression_lift(
            suppression=self.get_object(), can_manage=can_manage(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
