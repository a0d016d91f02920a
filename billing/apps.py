from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from billing.models import BillableEvent
        from sdr.states import Expiry, StateMachine, register

        # PENDING waits for the outbox; REPORTING is held by a worker sending it. A worker
        # that vanished may have reached Stripe: sending again is safe (same identifier and
        # idempotency key), so the row goes back to PENDING. CREDITING is the same for a
        # credit; it goes back to DISPUTED for staff to resolve again (same keys again).
        register(
            StateMachine(
                model=BillableEvent,
                object_type="billable_event",
                reason_field="last_error",
                running={
                    BillableEvent.Status.REPORTING: Expiry(
                        retry=BillableEvent.Status.PENDING,
                        give_up=BillableEvent.Status.FAILED,
                        reason="Reporting to Stripe stopped before it finished.",
                        max_attempts=8,
                    ),
                    BillableEvent.Status.CREDITING: Expiry(
                        retry=None,
                        give_up=BillableEvent.Status.DISPUTED,
                        reason="Crediting was interrupted; resolve the dispute again.",
                    ),
                },
                queued=(BillableEvent.Status.PENDING,),
                start=billable_events_start,
            )
        )


def billable_events_start(ids: Iterable[Any]) -> None:
    from billing.stripe_client import billing_enabled
    from billing.tasks import report_event_task
    from sdr.queue import hint_each

    if billing_enabled():  # with billing off, pending rows just wait
        hint_each(report_event_task, ids)
