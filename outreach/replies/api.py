"""/api/v1/replies/: replies as understood, and a person's correction of the category.

Declared operations only: list, retrieve, and `POST /replies/{id}/category/`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outreach.models import Reply
from outreach.replies.handling import reply_category_set
from outreach.replies.selectors import reply_list
from sdr.api_base import WorkspaceScoped, WorkspaceSerializer, person, validated
from sdr.http import ApiRequest
from sdr.tenancy import TenantQuerySet


class ReplyOutput(WorkspaceSerializer):
    campaign = serializers.UUIDField(
        source="enrollment.campaign_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Reply
        fields = [
            "id",
            "lead",
            "enrollment",
            "campaign",
            "message",
            "thread_match",
            "from_email",
            "from_name",
            "subject",
            "sent_at",
            "received_at",
            "visible_text",
            "language",
            "is_auto_reply",
            "out_of_office_until",
            "is_bounce",
            "bounced",
            "category",
            "confidence",
            "classifier",
            "classification_reason",
            "referral",
            "actions",
            "handled_at",
            "suggestion_status",
            "suggested_subject",
            "suggested_body",
            "suggestion_checks",
            "answer",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReplyFilter(serializers.Serializer):
    category = serializers.CharField(required=False, allow_blank=True)
    lead = serializers.UUIDField(required=False)
    received_after = serializers.DateTimeField(required=False)

    def validate_category(self, value: str) -> str:
        unknown = [c for c in value.split(",") if c and c not in Reply.Category.values]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown categories {unknown}; one of {', '.join(Reply.Category.values)}."
            )
        return value


class CategoryInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=Reply.Category.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "category", OpenApiTypes.STR, description="reply category; comma-separated"
            ),
            OpenApiParameter("lead", OpenApiTypes.UUID, description="lead id"),
            OpenApiParameter(
                "received_after", OpenApiTypes.DATETIME, description="received after (ISO 8601)"
            ),
        ]
    )
)
class ReplyViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Replies as understood: category, confidence, what was done, the suggested answer."""

    model = Reply
    serializer_class = ReplyOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> QuerySet[Reply]:
        if self.action != "list":
            return queryset.select_related("enrollment")
        params = validated(ReplyFilter, self.request.query_params)
        return reply_list(
            workspace=self.request.workspace,
            category=params.get("category", ""),
            lead_id=params.get("lead"),
            received_after=params.get("received_after"),
        )

    @extend_schema(request=CategoryInput, responses=ReplyOutput)
    @action(detail=True, methods=["post"])
    def category(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Correct the category (kept as a label); the new category's actions follow."""
        reply = self.get_object()  # another workspace's reply is a 404 before a 400
        data = validated(CategoryInput, request.data)
        reply = reply_category_set(
            reply=reply,
            category=data["category"],
            note=data["note"],
            user=person(request),
        )
        return Response(ReplyOutput(self.get_queryset().get(pk=reply.pk)).data)
