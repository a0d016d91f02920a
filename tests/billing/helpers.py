"""Small givens shared by the billing tests."""

from __future__ import annotations

from typing import Any, cast

from billing.ledger import account_for
from billing.models import BillableEvent, BillingAccount
from leads.models import Lead
from outreach.models import Outcome
from outreach.outcomes import outcome_record
from sdr.models import Workspace
from tests.factories import LeadFactory, WorkspaceFactory
from tests.stripe_server import FakeStripe


def make_lead(workspace: Workspace) -> Lead:
    """factory_boy is untyped: mypy takes a factory call for the factory itself."""
    return cast(Lead, LeadFactory(workspace=workspace))


def make_workspace(**fields: Any) -> Workspace:
    return cast(Workspace, WorkspaceFactory(**fields))


def subscribed(workspace: Workspace, server: FakeStripe) -> BillingAccount:
    """The workspace billed to a customer the loopback Stripe knows."""
    account = account_for(workspace)
    account.stripe_customer_id = server.customer_add()
    account.save()
    return account


def positive_reply(workspace: Workspace, text: str = "Yes, tell me more.") -> BillableEvent:
    lead = make_lead(workspace)
    outcome, _ = outcome_record(
        lead=lead, kind=Outcome.Kind.POSITIVE_REPLY, evidence=text, source=Outcome.Source.REPLY
    )
    return BillableEvent.objects.for_workspace(workspace).get(outcome=outcome)
