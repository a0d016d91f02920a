from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from sdr.models import Activity, LLMCall, Membership, Workspace, WorkspaceAPIKey


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    exclude = ["llm_api_key"]  # a secret: set through the product, never shown
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "workspace__slug"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(WorkspaceAPIKey)
class WorkspaceAPIKeyAdmin(APIKeyModelAdmin):
    list_display = [*APIKeyModelAdmin.list_display, "workspace", "last_used_at"]
    list_filter = ["workspace", "revoked"]
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

    def has_add_permission(self, request):
        return False  # a log: written by the product, read here

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["seq", "occurred_at", "workspace", "type", "object_type", "object_id"]
    list_filter = ["workspace", "type", "actor_type"]
    list_select_related = ["workspace"]
    search_fields = ["object_id", "type"]

    def has_add_permission(self, request):
        return False  # the log is written only with the change it describes

    def has_change_permission(self, request, obj=None):
        return False
