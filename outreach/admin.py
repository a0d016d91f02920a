from django.contrib import admin

from outreach.models import (
    Campaign,
    Enrollment,
    InboundEmail,
    Mailbox,
    Message,
    MessageFeedback,
    Outcome,
    Reply,
    ReplyLabel,
    SequenceStep,
)


class SequenceStepInline(admin.TabularInline):
    model = SequenceStep
    extra = 0
    fields = ["order", "kind", "delay_business_days", "instructions"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "status", "autonomy", "created_at"]
    list_filter = ["workspace", "status", "autonomy"]
    search_fields = ["name"]
    inlines = [SequenceStepInline]


@admin.register(SequenceStep)
class SequenceStepAdmin(admin.ModelAdmin):
    list_display = ["campaign", "order", "kind", "delay_business_days"]
    list_select_related = ["campaign"]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "campaign", "status", "current_step", "created_at"]
    list_select_related = ["lead", "campaign", "current_step"]
    list_filter = ["workspace", "status"]
    raw_id_fields = ["lead", "campaign", "current_step"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "status", "drafter", "model", "enrollment", "created_at"]
    list_select_related = ["enrollment__lead"]
    list_filter = ["workspace", "status", "drafter"]
    raw_id_fields = ["enrollment", "step", "cited_facts", "reviewed_by"]


@admin.register(MessageFeedback)
class MessageFeedbackAdmin(admin.ModelAdmin):
    list_display = ["message", "kind", "reason", "user", "created_at"]
    list_filter = ["workspace", "kind"]
    raw_id_fields = ["message", "user"]


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "source", "occurred_at", "workspace"]
    list_select_related = ["lead", "workspace"]
    list_filter = ["workspace", "kind", "source"]
    raw_id_fields = ["lead", "created_by"]


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["from_email", "from_name", "smtp_host", "status", "daily_cap", "workspace"]
    list_select_related = ["workspace"]
    list_filter = ["workspace", "status"]
    search_fields = ["from_email", "from_name"]
    exclude = ["smtp_password", "imap_password", "dkim_private_key"]  # secrets: set in the product


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["raw_sha256", "source", "status", "size", "mailbox", "created_at"]
    list_filter = ["workspace", "source", "status"]
    raw_id_fields = ["mailbox"]
    # The raw bytes are the evidence a replay reads: never edited by hand.
    exclude = ["raw"]


@admin.register(Reply)
class ReplyAdmin(admin.ModelAdmin):
    list_display = ["subject", "from_email", "category", "confidence", "classifier", "received_at"]
    list_filter = ["workspace", "category", "classifier", "thread_match"]
    search_fields = ["from_email", "subject"]
    raw_id_fields = ["inbound", "lead", "enrollment", "message", "answer"]


@admin.register(ReplyLabel)
class ReplyLabelAdmin(admin.ModelAdmin):
    list_display = ["reply", "category_before", "category_after", "user", "created_at"]
    list_filter = ["workspace", "category_after"]
    raw_id_fields = ["reply", "user"]
