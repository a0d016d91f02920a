"""Thin Celery tasks: each loads ids and calls a plain, tested function."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from sdr import rls

logger = logging.getLogger(__name__)


@shared_task(name="billing.report_event", bind=True, max_retries=6)
def report_event_task(self: Any, event_id: str, retrying: bool = False) -> str:
    from billing.models import BillableEvent
    from billing.reporting import ReportOutcome, event_report

    with rls.workspace_of(BillableEvent, event_id):
        result = event_report(event_id=event_id, force=retrying)
    if result.outcome == ReportOutcome.RETRY and result.retry_in is not None:
        # The row is back in PENDING with its backoff; this retry (and, failing it, the
        # outbox pass every minute) sends it again with the same identifier and key.
        raise self.retry(kwargs={"event_id": event_id, "retrying": True}, countdown=result.retry_in)
    return result.outcome


@shared_task(name="billing.report_pending")
def report_pending_task() -> str:
    from billing.reporting import events_report_pending

    with rls.cross_workspace():
        return events_report_pending().summary()


@shared_task(name="billing.reconcile")
def reconcile_task() -> int:
    from billing.reconcile import ledger_reconcile

    with rls.cross_workspace():
        return len(ledger_reconcile())
