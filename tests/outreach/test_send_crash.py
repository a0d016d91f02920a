"""A sending worker killed in the middle: real Celery workers on Redis and PostgreSQL send a
few hundred messages to a real SMTP server; one is SIGKILLed mid-send and a new one takes
over. No address gets the same message twice, and every message ends sent or unknown."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from outreach.dispatch import dispatch_due
from outreach.models import Campaign, Message
from outreach.sending import SEND_GROUP
from sdr.states import sweep
from tests.celery_broker import isolated_redis_broker, worker_process
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
)

MESSAGES = 240
BROKER = "redis://127.0.0.1:6379/13"
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
# The worker: this project's Celery app, on the send queue, with the test's own key prefix
# in Redis so that other runs sharing the database never take its tasks.
WORKER_MAIN = """
import sys

import django

django.setup()
from sdr.celery import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "global_keyprefix": sys.argv[1]
}
app.worker_main(["worker", "-P", "solo", "-Q", "send", "-l", "info",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


@pytest.fixture
def send_broker(settings):
    """This process sends its hints through Redis db 13 under a key prefix of its own."""
    with isolated_redis_broker(settings, BROKER) as prefix:
        yield prefix


def worker(tmp_path: Path, prefix: str, name: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    process = worker_process(
        WORKER_MAIN,
        prefix,
        broker_url=BROKER,
        log=log,
        EMAIL_DELIVERY="smtp",
        # Short limits, so that the killed worker's lease runs out within the test.
        CELERY_TASK_SOFT_TIME_LIMIT="4",
        CELERY_TASK_TIME_LIMIT="5",
        LEASE_SEND_SECONDS="6",
    )
    return process, log


def wait_for(condition, *, what: str, logs=(), timeout: float = 120):
    """Poll until `condition()` is true; the deadline only turns a hang into a failure
    with the workers' logs, it is not what the test measures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    counts = Counter(Message.unscoped_objects.values_list("status", flat=True))
    pytest.fail(
        f"Gave up waiting for {what}: {dict(counts)}\n"
        + "\n".join(log.read_text()[-5000:] for log in logs)
    )


def count(status: str) -> int:
    return Message.unscoped_objects.filter(status=status).count()


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_send_worker_killed_mid_send_never_sends_a_message_twice(
    workspace, smtp_server, send_broker, tmp_path
):
    campaign = CampaignFactory(
        workspace=workspace, status=Campaign.Status.ACTIVE, recipient_domain_daily_cap=1000
    )
    step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    mailbox = MailboxFactory(
        workspace=workspace, smtp_port=smtp_server.port, daily_cap=10_000, min_interval_seconds=0
    )
    campaign.mailboxes.add(mailbox)
    messages = [
        MessageFactory(
            workspace=workspace,
            enrollment=EnrollmentFactory(
                workspace=workspace,
                campaign=campaign,
                lead=LeadFactory(workspace=workspace, email=f"p{i}@company{i % 40}.example"),
            ),
            step=step,
            status=Message.Status.APPROVED,
            approved_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        for i in range(MESSAGES)
    ]

    first, first_log = worker(tmp_path, send_broker, "first")
    second = None
    logs = [first_log]
    try:
        report = dispatch_due(now=MONDAY)  # the hints go through Redis to the worker
        assert len(report.queued) == MESSAGES, report.summary()

        wait_for(
            lambda: count(Message.Status.SENT) >= MESSAGES // 3, what="a third sent", logs=logs
        )
        # Slow the server down so that the worker is caught inside a send: a message is
        # SENDING, its DATA on the wire, when the worker dies; others claimed in its group
        # may be SENDING with it, recorded or not yet handed over.
        smtp_server.delay_seconds = 1.0
        wait_for(lambda: count(Message.Status.SENDING) >= 1, what="a send in flight", logs=logs)
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait()
        smtp_server.delay_seconds = 0.0
        in_flight = list(Message.unscoped_objects.filter(status=Message.Status.SENDING))
        assert 1 <= len(in_flight) <= SEND_GROUP

        second, second_log = worker(tmp_path, send_broker, "second")
        logs.append(second_log)

        def finished() -> bool:
            # Beat's sweeper, called here: a SENDING message whose lease ran out becomes
            # UNKNOWN (never sent again); a QUEUED one is hinted again.
            sweep()
            left = Message.unscoped_objects.filter(
                status__in=[Message.Status.QUEUED, Message.Status.SENDING]
            )
            return not left.exists()

        wait_for(finished, what="every message to end", logs=logs)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    statuses = Counter(
        Message.unscoped_objects.filter(pk__in=[m.pk for m in messages]).values_list(
            "status", flat=True
        )
    )
    assert set(statuses) <= {Message.Status.SENT, Message.Status.UNKNOWN}, statuses
    # Left to a person, never sent again: whatever the dead worker had claimed.
    claimed = Message.unscoped_objects.filter(pk__in=[m.pk for m in in_flight])
    assert set(claimed.values_list("status", flat=True)) == {Message.Status.UNKNOWN}
    # No address received the same message twice; every sent message was received.
    with smtp_server.lock:
        received = [(tuple(r.rcpt_tos), r.message["Message-ID"]) for r in smtp_server.received]
    duplicates = [key for key, n in Counter(received).items() if n > 1]
    assert duplicates == []
    per_address = Counter(address for tos, _ in received for address in tos)
    assert max(per_address.values()) == 1
    sent = Message.unscoped_objects.filter(
        pk__in=[m.pk for m in messages], status=Message.Status.SENT
    ).values_list("to_email", flat=True)
    assert set(sent) <= set(per_address)
