"""Factories of the billing models (registered in tests/factories.py TENANT_FACTORIES)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import BillableEvent, BillingAccount, BillingDiscrepancy
from outreach.models import Outcome
from tests.factories import OutcomeFactory, TenantFactory, WorkspaceFactory


class BillingAccountFactory(TenantFactory):
    class Meta:
        model = BillingAccount
        django_get_or_create = ("workspace",)

    workspace = factory.SubFactory(WorkspaceFactory)
    plan = "outcome"


class BillableEventFactory(TenantFactory):
    class Meta:
        model = BillableEvent

    workspace = factory.SubFactory(WorkspaceFactory)
    outcome = factory.SubFactory(
        OutcomeFactory,
        workspace=factory.SelfAttribute("..workspace"),
        kind=Outcome.Kind.POSITIVE_REPLY,
        evidence="Sounds interesting, send me times for next week.",
    )
    lead = factory.SelfAttribute("outcome.lead")
    kind = factory.SelfAttribute("outcome.kind")
    evidence = factory.SelfAttribute("outcome.evidence")
    evidence_type = "outcome"
    evidence_id = factory.LazyAttribute(lambda o: str(o.outcome.pk))
    occurred_at = factory.LazyFunction(timezone.now)
    plan = "outcome"
    price = Decimal("9.00")
    meter_event_name = "sdr_positive_reply"
    status = BillableEvent.Status.REPORTED
    reported_at = factory.LazyFunction(timezone.now)
    stripe_identifier = factory.LazyAttribute(lambda o: f"ident-{o.outcome.pk}")


class BillingDiscrepancyFactory(TenantFactory):
    class Meta:
        model = BillingDiscrepancy

    workspace = factory.SubFactory(WorkspaceFactory)
    stripe_customer_id = "cus_test_discrepancy"
    meter_event_name = "sdr_positive_reply"
    period_start = factory.LazyFunction(lambda: timezone.now().replace(day=1))
    period_end = factory.LazyFunction(timezone.now)
    ledger_count = 2
    stripe_count = Decimal(1)


BILLING_FACTORIES: dict[type, object] = {
    BillingAccount: BillingAccountFactory,
    BillableEvent: BillableEventFactory,
    BillingDiscrepancy: BillingDiscrepancyFactory,
}
