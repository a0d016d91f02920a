from celery import shared_task

from sdr.services import expired_sessions_clear
from sdr.states import sweep


@shared_task(name="sdr.clear_expired_sessions")
def clear_expired_sessions_task() -> int:
    return expired_sessions_clear()


@shared_task(name="sdr.sweep")
def sweep_task() -> dict[str, dict[str, int]]:
    report = sweep()
    return {"expired": report.expired, "requeued": report.requeued}
