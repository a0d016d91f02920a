from celery import shared_task

from sdr import rls
from sdr.services import expired_sessions_clear
from sdr.states import sweep


@shared_task(name="sdr.clear_expired_sessions")
def clear_expired_sessions_task() -> int:
    return expired_sessions_clear()


@shared_task(name="sdr.sweep")
def sweep_task() -> dict[str, dict[str, int]]:
    with rls.cross_workspace():
        report = sweep()
    return {"expired": report.expired, "requeued": report.requeued}


@shared_task(name="sdr.send_hints")
def hints_send_task(task_name: str, ids: list[str], queue: str = "") -> int:
    """The hints `sdr.queue.hint_each` handed to a worker: one per id, for `task_name`."""
    from celery import current_app

    from sdr.queue import hints_send

    return hints_send(current_app.tasks[task_name], ids, queue=queue or None)


@shared_task(name="webhooks.pump")
def webhooks_pump_task() -> dict[str, int]:
    """Cut new deliveries, then start a sender for each endpoint with one due."""
    from sdr.queue import hint_each
    from sdr.webhooks import endpoints_due, webhooks_fanout

    with rls.cross_workspace():
        cut = webhooks_fanout()
        started = hint_each(webhook_deliver_task, endpoints_due())
    return {"cut": cut, "endpoints": started}


@shared_task(name="webhooks.deliver")
def webhook_deliver_task(endpoint_id: str) -> int:
    from sdr.models import WebhookEndpoint
    from sdr.webhooks import endpoint_deliver

    with rls.workspace_of(WebhookEndpoint, endpoint_id):
        return endpoint_deliver(endpoint_id)


@shared_task(name="sdr.expire_idempotency_records")
def expire_idempotency_records_task() -> int:
    from sdr.idempotency import idempotency_records_expire

    return idempotency_records_expire()
