"""/api/v1/ranking/: the ideal customer profile (read and write), the model's status and
the addresses guessed for leads without one (read only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ranking import selectors, services
from ranking.models import EmailGuess, IdealCustomerProfile
from sdr.api_base import WorkspaceScoped, WorkspaceSerializer, validated
from sdr.edge import query_uuid
from sdr.http import ApiRequest
from sdr.tenancy import TenantQuerySet


def _list_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_ITEM_LENGTH),
        max_length=services.MAX_ITEMS,
        required=False,
        help_text=help_text,
    )


class ProfileInput(serializers.Serializer):
    industries = _list_field("Industries, matched as words of the company's industry")
    company_sizes = serializers.ListField(
        child=serializers.ChoiceField(choices=services._CHOICES["company_sizes"]),
        required=False,
        max_length=services.MAX_ITEMS,
    )
    seniorities = serializers.ListField(
        child=serializers.ChoiceField(choices=services._CHOICES["seniorities"]),
        required=False,
        max_length=services.MAX_ITEMS,
    )
    titles = _list_field("Words a job title contains")
    departments = _list_field("Departments (sales, marketing, engineering, ...)")
    locations = _list_field("Countries (ISO codes) or places")
    must_have = _list_field("Traits every good lead has (a tech, an industry word)")
    excluded = _list_field("Traits that rule a lead out")


class ProfileOutput(serializers.ModelSerializer):
    class Meta:
        model = IdealCustomerProfile
        fields = list(services.PROFILE_FIELDS)
        read_only_fields = fields


class ModelStatusOutput(serializers.Serializer):
    outcomes_learned = serializers.IntegerField()
    positives_learned = serializers.IntegerField()
    basis = serializers.ChoiceField(choices=["profile", "model"])
    updated_at = serializers.DateTimeField(allow_null=True)


class ProfileApi(APIView):
    """The workspace's ideal customer profile: the ranking's prior before any outcome."""

    tenant_kwargs: dict = {}

    @extend_schema(responses=ProfileOutput)
    def get(self, request: ApiRequest) -> Response:
        return Response(ProfileOutput(services.profile_get(workspace=request.workspace)).data)

    @extend_schema(request=ProfileInput, responses=ProfileOutput)
    def put(self, request: ApiRequest) -> Response:
        data = validated(ProfileInput, request.data)
        lists = {name: data.get(name, []) for name in services.PROFILE_FIELDS}
        profile = services.profile_update(workspace=request.workspace, **lists)
        return Response(ProfileOutput(profile).data)

    @extend_schema(request=ProfileInput, responses=ProfileOutput)
    def patch(self, request: ApiRequest) -> Response:
        data = validated(ProfileInput, request.data, partial=True)
        profile = services.profile_update(workspace=request.workspace, **data)
        return Response(ProfileOutput(profile).data)


class ModelStatusApi(APIView):
    """How many outcomes the workspace's ranking has learned from, and its basis."""

    tenant_kwargs: dict = {}

    @extend_schema(responses=ModelStatusOutput)
    def get(self, request: ApiRequest) -> Response:
        return Response(ModelStatusOutput(selectors.model_status(request.workspace)).data)


class EmailGuessOutput(WorkspaceSerializer):
    class Meta:
        model = EmailGuess
        fields = [
            "id",
            "lead",
            "address",
            "pattern",
            "mx_found",
            "verified",
            "based_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("lead", OpenApiTypes.UUID, description="lead id")]
    )
)
class EmailGuessListApi(WorkspaceScoped, generics.ListAPIView):
    """Addresses guessed for leads without one, from the company's address pattern, with
    whether its domain has an MX record. Unverified: never sent to until confirmed."""

    model = EmailGuess
    serializer_class = EmailGuessOutput

    @classmethod
    def tenant_kwargs(cls) -> dict[str, Any]:
        return {}  # a list: no id in the route

    def scope_queryset(self, queryset: TenantQuerySet) -> QuerySet[EmailGuess]:
        lead_id = query_uuid(self.request.query_params, "lead")
        return queryset.filter(lead_id=lead_id) if lead_id else queryset
