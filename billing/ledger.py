"""The ledger: one `BillableEvent` per billable outcome, created with the outcome.

`billable_event_for_outcome` runs inside the transaction that records the outcome
(outreach/outcomes.py), so an outcome and its charge commit together or not at all. The
database's unique constraint on (workspace, lead, kind) decides, not a read-then-write:
two workers recording the same lead's positive reply at once make one row.
"""

from __future__ import annotations

import uuid

from django.utils import timezone

from billing.models import BillableEvent, BillingAccount
from billing.plans import DEFAULT_PLAN, plan_get
from billing.spend import spend_check
from billing.stripe_client import billing_enabled
from outreach.models import Outcome
from sdr.activity import activity_record
from sdr.models import Workspace
from sdr.queue import hint_each_after_commit


def account_for(workspace: Workspace | uuid.UUID | str) -> BillingAccount:
    """The workspace's billing account, made on first use with the default plan."""
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    account, _ = BillingAccount.unscoped_objects.get_or_create(
        workspace_id=workspace_id, defaults={"plan": DEFAULT_PLAN}
    )
    return account


def billable_event_for_outcome(outcome: Outcome) -> BillableEvent | None:
    """The outcome's billable event, made the first time; None if the plan does not
    bill this kind of outcome. Call inside the outcome's transaction."""
    account = account_for(outcome.workspace_id)
    plan = plan_get(account.plan)
    price = plan.price_for(outcome.kind)
    if price is None:
        return None
    row = BillableEvent(
        id=uuid.uuid4(),
        workspace_id=outcome.workspace_id,
        outcome=outcome,
        lead_id=outcome.lead_id,
        kind=outcome.kind,
        evidence=outcome.evidence,
        evidence_type=outcome.evidence_type or "outcome",
        evidence_id=outcome.evidence_id or str(outcome.pk),
        occurred_at=outcome.occurred_at,
        plan=plan.key,
        price=price.amount,
        currency="usd",
        meter_event_name=price.meter_event_name,
    )
    row.stripe_identifier = str(row.id)
    # ON CONFLICT DO NOTHING: the constraint decides, and no savepoint is rolled back.
    BillableEvent.unscoped_objects.bulk_create([row], ignore_conflicts=True)
    event = BillableEvent.unscoped_objects.get(
        workspace_id=outcome.workspace_id, lead_id=outcome.lead_id, kind=outcome.kind
    )
    if event.pk != row.pk:
        return event  # billed already (another outcome row for the same lead and kind)
    activity_record(
        workspace=outcome.workspace_id,
        type="billing.event_recorded",
        object_type="billable_event",
        object_id=event.pk,
        payload={
            "outcome": str(outcome.pk),
            "lead": str(outcome.lead_id),
            "kind": outcome.kind,
            "price": str(event.price),
        },
    )
    account.workspace = outcome.workspace
    spend_check(account=account, now=timezone.now())
    if billing_enabled():
        from billing.tasks import report_event_task

        # After commit: the task must find the row. A lost hint is sent again by the
        # sweeper (the row waits in PENDING) and by the outbox pass every minute.
        hint_each_after_commit(report_event_task, [event.pk])
    return event
