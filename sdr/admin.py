from django.contrib import admin
from django.http import HttpRequest
from rest_framework_api_key.admin import APIKeyModelAdmin

from sdr.models import (
    Activity,
    IdempotencyRecord,
    LLMCall,
    Membership,
    RateBucket,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
    WorkspaceAPIKey,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    # Secrets: set through the product, never shown.
    exclude = ["llm_api_key", "inbound_webhook_secret"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "workspace__slug"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(WorkspaceAPIKey)
class WorkspaceAPIKeyAdmin(APIKeyModelAdmin):
    # The library's base sets these as tuple literals, which mypy types as fixed-length
    # tuples: a list, or a tuple of another length, is then an incompatible override.
    list_display = [*APIKeyModelAdmin.list_display, "workspace", "last_used_at"]  # type: ignore[assignment]
    list_filter = ["workspace", "revoked"]  # type: ignore[assignment]
    autocomplete_fields = ["workspace"]


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "workspace",
        "purpose",
        "model",
        "tokens_in",
        "cached_tokens",
        "tokens_out",
        "latency_ms",
        "cost",
        "succeeded",
        "error",
    ]
    list_filter = ["workspace", "purpose", "model", "succeeded"]
    list_select_related = ["workspace"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a log: written by the product, read here

    def has_change_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["seq", "occurred_at", "workspace", "type", "object_type", "object_id"]
    list_filter = ["workspace", "type", "actor_type"]
    list_select_related = ["workspace"]
    search_fields = ["object_id", "type"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the log is written only with the change it describes

    def has_change_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "workspace", "status", "failing_since", "cursor"]
    list_filter = ["status", "workspace"]
    list_select_related = ["workspace"]
    exclude = ["secret"]  # shown to the customer once; never here


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event_type", "status", "attempts", "last_error"]
    list_filter = ["status", "workspace"]
    list_select_related = ["endpoint"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cut from the activity log, never by hand


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["created_at", "key", "response_status"]
    exclude = ["response_body"]  # a copy of an API answer: personal data, not for browsing

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: IdempotencyRecord | None = None
    ) -> bool:
        return False


@admin.register(RateBucket)
class RateBucketAdmin(admin.ModelAdmin):
    """Rate-limit buckets; deleting one lifts a lockout at once."""

    list_display = ["key", "tokens", "allowed"]
    search_fields = ["key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RateBucket | None = None) -> bool:
        return False
