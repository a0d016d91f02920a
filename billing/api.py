"""/api/v1/billing/: the ledger of billable outcomes, and disputes."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.disputes import dispute_window_ends, event_dispute
from billing.models import BillableEvent
from sdr.api_base import WorkspaceScoped, WorkspaceSerializer, person, validated
from sdr.http import ApiRequest
from sdr.tenancy import TenantQuerySet


class BillableEventOutput(WorkspaceSerializer):
    dispute_window_ends = serializers.SerializerMethodField()

    class Meta:
        model = BillableEvent
        fields = [
            "id",
            "kind",
            "status",
            "price",
            "currency",
            "occurred_at",
            "lead",
            "outcome",
            "evidence",
            "evidence_type",
            "evidence_id",
            "reported_at",
            "dispute_window_ends",
            "dispute_reason",
            "disputed_at",
            "resolved_at",
            "resolution_note",
            "credit_method",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_dispute_window_ends(self, event: BillableEvent) -> datetime:
        return dispute_window_ends(event)


class DisputeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the charge is wrong")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=BillableEvent.Status.values, description="status"
            ),
            OpenApiParameter("kind", OpenApiTypes.STR, description="outcome kind"),
        ]
    )
)
class BillableEventViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The billing ledger: one row per billed outcome, with its evidence, price and
    status (pending, reporting, reported, failed, disputed, crediting, credited, upheld)."""

    model = BillableEvent
    serializer_class = BillableEventOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        params = self.request.query_params
        filters = {"status": params.get("status"), "kind": params.get("kind")}
        return queryset.filter(**{k: v for k, v in filters.items() if v})

    @extend_schema(request=DisputeInput, responses=BillableEventOutput)
    @action(detail=True, methods=["post"])
    def dispute(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Dispute a charge within the plan's window (7 days by default) with a reason: it
        becomes `disputed` and is not billed while we decide."""
        event = self.get_object()
        data = validated(DisputeInput, request.data)
        event = event_dispute(event=event, reason=data["reason"], user=person(request))
        return Response(BillableEventOutput(event).data)
