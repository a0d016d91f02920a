"""Billing: each workspace's Stripe account, the ledger of billable outcomes, the Stripe
webhook event log, and the differences found by reconciliation.

The ledger, not Stripe, prevents double billing: one `BillableEvent` per workspace, lead
and outcome kind, enforced by the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from billing.plans import DEFAULT_PLAN, PLANS
from outreach.models import Outcome
from sdr.states import Leased
from sdr.tenancy import TenantModel


class BillingAccount(TenantModel):
    """A workspace's billing: its Stripe customer and subscription (kept from webhooks),
    its plan and spend cap, and what currently pauses its sending."""

    plan = models.CharField(
        max_length=30, default=DEFAULT_PLAN, choices=[(k, p.name) for k, p in PLANS.items()]
    )
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_status = models.CharField(max_length=30, blank=True)
    # Out-of-order webhooks: the subscription's own `created` and the `created` of the last
    # event applied; an older event, or one about an older subscription, changes nothing.
    subscription_created_at = models.DateTimeField(null=True, blank=True)
    subscription_event_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    spend_cap = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Per calendar month (UTC), in the plan's currency; empty: no cap",
    )
    # Set by invoice.payment_failed, cleared by invoice.paid; sending pauses once the
    # plan's grace period has passed.
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    payment_event_at = models.DateTimeField(null=True, blank=True)
    # The first day of the month in which billed outcomes reached the cap.
    cap_reached_period = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="billing_account_per_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id} ({self.plan})"


class BillableEvent(TenantModel, Leased):
    """One billable outcome, with its evidence and price, and its life at Stripe.

    pending → reporting (claimed, lease) → reported; a transient failure goes back to
    pending with `next_attempt_at`; repeated failure ends in failed, for a person.
    A dispute (within the plan's window) moves pending or reported to disputed; resolving
    it ends in:
    - credited: the dispute was upheld, the customer does not pay: the meter event was
      cancelled at Stripe (within 24 hours of reporting), or a customer balance credit
      was issued (later), or it had never been reported (`credit_method` says which);
    - upheld: the charge was upheld, the dispute rejected: the customer pays.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        REPORTING = "reporting", "Reporting"
        REPORTED = "reported", "Reported"
        FAILED = "failed", "Failed"
        DISPUTED = "disputed", "Disputed"
        CREDITING = "crediting", "Crediting"
        CREDITED = "credited", "Credited"
        UPHELD = "upheld", "Upheld"

    class CreditMethod(models.TextChoices):
        METER_CANCEL = "meter_cancel", "Meter event cancelled"
        BALANCE_CREDIT = "balance_credit", "Customer balance credit"
        NOT_REPORTED = "not_reported", "Never reported"

    outcome = models.OneToOneField(
        "outreach.Outcome", null=True, on_delete=models.SET_NULL, related_name="billable_event"
    )
    lead = models.ForeignKey("leads.Lead", null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20, choices=Outcome.Kind.choices)
    # A copy: the bill must still show why after the outcome or the reply changes.
    evidence = models.TextField()
    evidence_type = models.CharField(max_length=30, blank=True)
    evidence_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    plan = models.CharField(max_length=30)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="usd")
    meter_event_name = models.CharField(max_length=100)

    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=2000, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True)
    # The meter event's identifier at Stripe: this row's id.
    stripe_identifier = models.CharField(max_length=100, blank=True)

    dispute_reason = models.TextField(blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    disputed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    credit_method = models.CharField(max_length=20, choices=CreditMethod.choices, blank=True)
    stripe_credit_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "lead", "kind"], name="billable_once_per_lead_and_kind"
            )
        ]
        indexes = [models.Index(fields=["workspace", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.price} ({self.status})"


class StripeEvent(models.Model):
    """A Stripe webhook event, stored by its id before it is handled: a redelivery finds
    it and is answered 2xx without being handled again."""

    class Result(models.TextChoices):
        RECEIVED = "received", "Received"
        HANDLED = "handled", "Handled"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    id = models.CharField(primary_key=True, max_length=255)
    type = models.CharField(max_length=100)
    created = models.DateTimeField(help_text="When Stripe created the event")
    received_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.RECEIVED)
    detail = models.CharField(max_length=2000, blank=True, help_text="What the handler did")
    payload = models.JSONField()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.result})"


class BillingDiscrepancy(TenantModel):
    """A difference between the ledger and Stripe's meter event summaries for one
    customer, meter and period, found by the nightly reconciliation."""

    stripe_customer_id = models.CharField(max_length=100)
    meter_event_name = models.CharField(max_length=100)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    ledger_count = models.IntegerField()
    stripe_count = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "billing discrepancies"

    def __str__(self) -> str:
        return f"{self.meter_event_name}: ledger {self.ledger_count}, Stripe {self.stripe_count}"
