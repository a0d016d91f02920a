"""Core API routes: who am I, for which workspace."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from sdr.activity import FEED_MAX_LIMIT, activities_publish, activity_feed, activity_feed_query
from sdr.api_base import validated
from sdr.http import ApiRequest
from sdr.json_rows import JsonNested, JsonObject, fields_json, rows_as_json
from sdr.models import Activity, Workspace
from sdr.usage import usage_summary

MAX_USAGE_DAYS = 366


class WorkspaceOutput(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "created_at"]


class CurrentWorkspaceApi(APIView):
    """The workspace the credentials act for: a cheap way for a CRM to check its key."""

    @extend_schema(responses=WorkspaceOutput)
    def get(self, request: ApiRequest) -> Response:
        return Response(WorkspaceOutput(request.workspace).data)


class ActivityOutput(serializers.ModelSerializer):
    id = serializers.IntegerField(source="seq", help_text="The feed cursor: pass it as `after`")
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = ["id", "type", "occurred_at", "object_type", "object_id", "actor", "payload"]
        read_only_fields = fields

    def get_actor(self, activity: Activity) -> dict[str, str]:
        return {"type": activity.actor_type, "id": activity.actor_id, "label": activity.actor_label}


# An activity of the feed as PostgreSQL writes it (sdr/json_rows.py); a test compares it
# with ActivityOutput.
ACTIVITY_JSON = fields_json(
    Activity,
    ActivityOutput.Meta.fields,
    id=F("seq"),
    actor=JsonNested({"type": F("actor_type"), "id": F("actor_id"), "label": F("actor_label")}),
)


class ActivityFeedInput(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0, help_text="Last id already seen")
    limit = serializers.IntegerField(min_value=1, max_value=FEED_MAX_LIMIT, default=100)
    type = serializers.CharField(required=False, help_text="Comma-separated, e.g. lead.created")
    object_type = serializers.CharField(required=False, max_length=30)
    object_id = serializers.CharField(required=False, max_length=64)


class ActivityFeedOutput(serializers.Serializer):
    results = ActivityOutput(many=True)
    last_id = serializers.IntegerField(help_text="Pass as `after` for the next page")
    has_more = serializers.BooleanField()


class ActivityFeedApi(APIView):
    """The change feed: everything that happened in the workspace, oldest first.

    Resume by passing the last `id` you saw as `after`. Ids are given in commit order, so
    a client that walks `after` never misses an event and never sees one twice, even while
    writes happen concurrently.
    """

    tenant_kwargs: dict = {}

    @extend_schema(parameters=[ActivityFeedInput], responses=ActivityFeedOutput)
    def get(self, request: ApiRequest) -> HttpResponse:
        params = validated(ActivityFeedInput, request.query_params)
        types = [t.strip() for t in params.get("type", "").split(",") if t.strip()]
        limit = params["limit"]
        feed = dict(
            workspace=request.workspace,
            after=params["after"],
            types=types,
            object_type=params.get("object_type", ""),
            object_id=params.get("object_id", ""),
        )
        if not rows_as_json():
            # One more than asked for, to say whether there is more.
            rows = activity_feed(**feed, limit=limit + 1)
            page = rows[:limit]
            return Response(
                {
                    "results": ActivityOutput(page, many=True).data,
                    "last_id": page[-1].seq if page else params["after"],
                    "has_more": len(rows) > limit,
                }
            )
        activities_publish()
        query = activity_feed_query(**feed).values_list("seq", JsonObject(ACTIVITY_JSON))
        written = list(query[: limit + 1])
        shown = written[:limit]
        tail = json.dumps(
            {
                "last_id": shown[-1][0] if shown else params["after"],
                "has_more": len(written) > limit,
            },
            separators=(",", ":"),
        )
        body = f'{{"results":[{",".join(row for _, row in shown)}],{tail[1:]}'
        return HttpResponse(body.encode(), content_type="application/json")


class UsageInput(serializers.Serializer):
    start = serializers.DateTimeField(
        required=False, help_text="Start of the period (default: the start of this month, UTC)"
    )
    end = serializers.DateTimeField(
        required=False, help_text="End, exclusive (default: the start of next month, UTC)"
    )

    def validate(self, attrs: dict) -> dict:
        month = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        attrs.setdefault("start", month)
        attrs.setdefault("end", (month + timedelta(days=32)).replace(day=1))
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["Must be after start."]})
        if attrs["end"] - attrs["start"] > timedelta(days=MAX_USAGE_DAYS):
            raise serializers.ValidationError(
                {"end": [f"A period is at most {MAX_USAGE_DAYS} days."]}
            )
        return attrs


class _Period(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class _Totals(serializers.Serializer):
    total = serializers.IntegerField()
    added = serializers.IntegerField()


class _Companies(_Totals):
    researched = serializers.IntegerField()
    research_failed = serializers.IntegerField(help_text="Now, not in the period")


class _Sent(serializers.Serializer):
    sent = serializers.IntegerField()


class _Replies(serializers.Serializer):
    total = serializers.IntegerField()
    by_category = serializers.DictField(child=serializers.IntegerField())


class _Outcomes(serializers.Serializer):
    total = serializers.IntegerField()
    by_kind = serializers.DictField(child=serializers.IntegerField())


class _Model(serializers.Serializer):
    calls = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=14, decimal_places=6, coerce_to_string=True)


class UsageOutput(serializers.Serializer):
    period = _Period()
    leads = _Totals()
    companies = _Companies()
    messages = _Sent()
    replies = _Replies()
    outcomes = _Outcomes()
    model = _Model()


class UsageApi(APIView):
    """What the workspace has and what happened in a period (default: this calendar month):
    leads and companies, research, messages sent, replies by category, outcomes by kind,
    and model calls with their cost."""

    tenant_kwargs: dict = {}

    @extend_schema(parameters=[UsageInput], responses=UsageOutput)
    def get(self, request: ApiRequest) -> Response:
        params = validated(UsageInput, request.query_params)
        summary = usage_summary(workspace=request.workspace, **params)
        return Response(UsageOutput(summary).data)
