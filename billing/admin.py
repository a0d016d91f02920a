from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing.disputes import dispute_resolve
from billing.models import BillableEvent, BillingAccount, BillingDiscrepancy, StripeEvent
from sdr.errors import AppError


class WorkspaceAdmin(admin.ModelAdmin):
    list_select_related = ["workspace"]
    list_filter = ["workspace"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(BillingAccount)
class BillingAccountAdmin(WorkspaceAdmin):
    list_display = ["workspace", "plan", "stripe_customer_id", "subscription_status", "spend_cap"]
    search_fields = ["stripe_customer_id", "stripe_subscription_id"]


@admin.register(BillableEvent)
class BillableEventAdmin(WorkspaceAdmin):
    list_display = ["workspace", "kind", "price", "status", "occurred_at", "reported_at"]
    list_filter = ["workspace", "status", "kind"]
    raw_id_fields = ["outcome", "lead", "disputed_by"]
    actions = ["dispute_credit", "dispute_uphold"]

    @admin.action(description="Disputed: credit the customer (dispute upheld)")
    def dispute_credit(self, request: HttpRequest, queryset: QuerySet[BillableEvent]) -> None:
        self._resolve(request, queryset, credit=True)

    @admin.action(description="Disputed: keep the charge (dispute rejected)")
    def dispute_uphold(self, request: HttpRequest, queryset: QuerySet[BillableEvent]) -> None:
        self._resolve(request, queryset, credit=False)

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[BillableEvent], *, credit: bool
    ) -> None:
        done = 0
        for event in queryset.filter(status=BillableEvent.Status.DISPUTED):
            try:
                dispute_resolve(event=event, credit=credit, note=f"Decided by {request.user}")
            except AppError as error:
                self.message_user(request, f"{event.pk}: {error.message}", messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} disputes decided.")


@admin.register(BillingDiscrepancy)
class BillingDiscrepancyAdmin(WorkspaceAdmin):
    list_display = ["workspace", "meter_event_name", "ledger_count", "stripe_count", "period_end"]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "created", "result", "handled_at"]
    list_filter = ["type", "result"]
    search_fields = ["id"]
    readonly_fields = ["id", "type", "created", "received_at", "handled_at", "payload"]
