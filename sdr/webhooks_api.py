"""/api/v1/webhooks/: the workspace's webhook endpoints and what was delivered to them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import (
    OpenApiResponse,
    OpenApiWebhook,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from sdr import webhooks
from sdr.api import ActivityOutput
from sdr.api_base import WorkspaceScoped, WorkspaceSerializer, can_manage, person, validated
from sdr.errors import AppError, ErrorCode
from sdr.http import ApiRequest
from sdr.models import WebhookDelivery, WebhookEndpoint


class EndpointOutput(WorkspaceSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "status",
            "disabled_reason",
            "failing_since",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(
        help_text="Shown once, at creation and rotation: verify each delivery's signature"
    )

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInput(serializers.Serializer):
    url = serializers.URLField(max_length=2000)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=82),
        min_length=1,
        max_length=webhooks.MAX_EVENT_TYPES,
        help_text='Activity types ("reply.classified"), prefixes ("reply.*") or ["*"]',
    )
    status = serializers.ChoiceField(
        WebhookEndpoint.Status.choices,
        required=False,
        help_text="Set active again to resume a disabled endpoint where it stopped",
    )


class DeliveryOutput(WorkspaceSerializer):
    event_id = serializers.IntegerField(source="seq", help_text="The activity's feed id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "log",
            "created_at",
        ]
        read_only_fields = fields


def _managers_only(request: ApiRequest) -> None:
    if not can_manage(request):
        raise AppError(
            ErrorCode.PERMISSION_DENIED,
            "Only an owner or admin of the workspace can change webhook endpoints.",
            status_code=403,
        )


@extend_schema_view(
    create=extend_schema(request=EndpointInput, responses={201: EndpointWithSecretOutput}),
    partial_update=extend_schema(request=EndpointInput, responses=EndpointOutput),
)
class WebhookEndpointViewSet(
    WorkspaceScoped,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Endpoints that hear about activities as they happen, signed with the endpoint's
    secret (`SDR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`), in
    feed order, retried with backoff for up to a day. The body is the activity exactly as
    the change feed gives it; `SDR-Event-Id` is its feed id (deliveries are at least once:
    skip an id you have seen)."""

    model = WebhookEndpoint
    serializer_class = EndpointOutput

    def create(self, request: ApiRequest) -> Response:
        _managers_only(request)
        data = validated(EndpointInput, request.data)
        data.pop("status", None)
        endpoint = webhooks.endpoint_create(
            workspace=request.workspace, user=person(request), **data
        )
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: ApiRequest, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        _managers_only(request)
        data = validated(EndpointInput, request.data, partial=True)
        return Response(EndpointOutput(webhooks.endpoint_update(endpoint, **data)).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: ApiRequest, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        _managers_only(request)
        webhooks.endpoint_delete(endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=EndpointWithSecretOutput)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: ApiRequest, pk: str | None = None) -> Response:
        """A new signing secret, effective for the next delivery; shown once."""
        endpoint = self.get_object()
        _managers_only(request)
        return Response(EndpointWithSecretOutput(webhooks.endpoint_rotate_secret(endpoint)).data)

    @extend_schema(responses=DeliveryOutput(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The endpoint's deliveries, newest first, each with its attempts."""
        endpoint = self.get_object()
        queryset = WebhookDelivery.objects.for_workspace(request.workspace).filter(
            endpoint=endpoint
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)


# The webhook deliveries, documented in the schema as what the receiver gets (OpenAPI
# 3.1's `webhooks`, written as `x-webhooks` in our 3.0 document by `webhooks_in_schema`).
activity_webhook = OpenApiWebhook(
    name="activity",
    decorator=extend_schema(
        summary="An activity, pushed to a registered endpoint",
        description=(
            "The body is the activity exactly as `GET /activities/` gives it. Verify "
            "`SDR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 with the endpoint's "
            'secret over "<t>." followed by the raw body>` before trusting it, and skip an '
            "`SDR-Event-Id` already applied (deliveries are at least once, in feed order). "
            "Answer 2xx within 10 seconds; anything else is retried with backoff for a day."
        ),
        request=ActivityOutput,
        responses={200: OpenApiResponse(description="Any 2xx: received")},
    ),
)


# drf-spectacular leaves a webhook's parameters out; the headers are the contract.
_DELIVERY_HEADERS = [
    {
        "in": "header",
        "name": "SDR-Signature",
        "required": True,
        "schema": {"type": "string", "pattern": "^t=[0-9]+,v1=[0-9a-f]{64}$"},
        "description": 'HMAC-SHA256 with the endpoint\'s secret over "<t>." + the raw body',
    },
    {
        "in": "header",
        "name": "SDR-Event-Id",
        "required": True,
        "schema": {"type": "integer"},
        "description": "The activity's feed id: skip one already applied",
    },
    {"in": "header", "name": "SDR-Event-Type", "required": True, "schema": {"type": "string"}},
]


def webhooks_in_schema(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the delivery headers, and `webhooks` (OpenAPI
    3.1) under the `x-webhooks` extension that 3.0 tools read, in our 3.0 document."""
    for path_item in result.get("webhooks", {}).values():
        for operation in path_item.values():
            operation["parameters"] = _DELIVERY_HEADERS
    if str(result.get("openapi", "")).startswith("3.0") and "webhooks" in result:
        result["x-webhooks"] = result.pop("webhooks")
    return result
