from django.contrib import admin

from leads.models import (
    Company,
    Fact,
    ImportFileChunk,
    ImportJob,
    ImportRowError,
    Lead,
    LeadTag,
    SavedView,
    Signal,
    Suppression,
    Tag,
    WebPage,
)


class WorkspaceAdmin(admin.ModelAdmin):
    """Staff see every workspace here; the workspace column and filter say whose row it is."""

    list_select_related = ["workspace"]
    list_filter = ["workspace"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Company)
class CompanyAdmin(WorkspaceAdmin):
    list_display = ["domain", "name", "workspace", "enrich_status", "enriched_at"]
    list_filter = ["workspace", "enrich_status"]
    search_fields = ["domain", "name"]


@admin.register(Lead)
class LeadAdmin(WorkspaceAdmin):
    list_display = ["email", "first_name", "last_name", "title", "company", "status", "workspace"]
    list_select_related = ["workspace", "company"]
    list_filter = ["workspace", "status", "seniority", "source"]
    search_fields = ["email", "first_name", "last_name", "external_id"]
    raw_id_fields = ["company"]


@admin.register(Fact)
class FactAdmin(WorkspaceAdmin):
    list_display = ["field", "value", "company", "lead", "extractor", "confidence", "observed_at"]
    list_select_related = ["workspace", "company", "lead"]
    list_filter = ["workspace", "field", "source_kind", "extractor"]
    raw_id_fields = ["company", "lead"]


@admin.register(Signal)
class SignalAdmin(WorkspaceAdmin):
    list_display = ["kind", "title", "company", "happened_on", "amount", "currency"]
    list_select_related = ["workspace", "company"]
    list_filter = ["workspace", "kind"]
    raw_id_fields = ["company"]


@admin.register(WebPage)
class WebPageAdmin(WorkspaceAdmin):
    list_display = ["url", "kind", "company", "status_code", "fetched_at", "error"]
    list_select_related = ["workspace", "company"]
    raw_id_fields = ["company"]


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    extra = 0
    fields = readonly_fields = ("line", "kept", "reason", "raw")
    can_delete = False


@admin.register(ImportJob)
class ImportJobAdmin(WorkspaceAdmin):
    list_display = [
        "filename",
        "workspace",
        "status",
        "done_rows",
        "total_rows",
        "error_count",
        "warning_count",
    ]
    list_filter = ["workspace", "status"]
    exclude = ["content"]  # the raw upload can be megabytes; it is not for reading here
    inlines = [ImportRowErrorInline]


@admin.register(ImportFileChunk)
class ImportFileChunkAdmin(WorkspaceAdmin):
    list_display = ["job", "seq"]
    exclude = ["data"]  # up to a megabyte of the raw upload
    raw_id_fields = ["job"]


@admin.register(ImportRowError)
class ImportRowErrorAdmin(WorkspaceAdmin):
    list_display = ["job", "line", "kept", "reason"]
    raw_id_fields = ["job"]


@admin.register(Suppression)
class SuppressionAdmin(WorkspaceAdmin):
    list_display = ["value", "kind", "source", "reason", "workspace", "created_at"]
    list_filter = ["workspace", "kind", "source"]
    search_fields = ["value"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["id", "value_hash", "created_at", "updated_at"]


@admin.register(SavedView)
class SavedViewAdmin(WorkspaceAdmin):
    list_display = ["name", "query", "workspace", "created_at"]
    list_filter = ["workspace"]
    search_fields = ["name"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Tag)
class TagAdmin(WorkspaceAdmin):
    list_display = ["name", "workspace", "created_at"]
    search_fields = ["name"]


@admin.register(LeadTag)
class LeadTagAdmin(WorkspaceAdmin):
    list_display = ["tag", "lead", "workspace", "created_at"]
    list_select_related = ["workspace", "tag", "lead"]
    raw_id_fields = ["lead", "tag"]
