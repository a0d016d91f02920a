"""Messages dispatched and sent per second, against a bare smtplib loop to the same server.

An aiosmtpd server on loopback (started here) receives both. The bare loop is what any
sender must do per message at the least: connect, MAIL/RCPT/DATA, quit. Ours does much
more: the dispatcher's pass (locked batches, the sending window, caps and spacing counted
under mailbox locks, suppression lookup, an activity), then the send tasks, called here as
one worker runs the hints: the first hint of a mailbox sends its due messages as a batch
over one connection, claimed with a lease and re-checked (campaign, sequence, mailbox) in
one UPDATE per group of ten, each built with its Message-ID, unsubscribe headers and
footer, its address looked up in the suppression list right before its SMTP call, and
the group recorded with its activities in one commit; the other hints find their message
sent. The next steps are written set-based at the end of the batch. The goal from the
issue is at least half the bare loop's rate, and the ratio printed is that of the median
of ROUNDS rounds, each timing the bare loop and ours one after the other.
"""

from __future__ import annotations

import smtplib
import socket
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_on_scratch_postgres, report

MESSAGES = 300
ROUNDS = 5
# The goal: at least half the bare loop's rate. Batching per mailbox (one
# connection, the sequence step set-based) took a send from ~42 ms and ~22 queries to
# ~12 ms and ~8 queries (ratio 0.21-0.24 in CI); claiming and recording ten at a time,
# the sequences advanced once per batch and rows written from arrays instead of Django's
# CASE took it to 0.30-0.32. Then (0.42-0.62 on one machine, 0.5 at the median): the
# message's bytes written directly when it is plain ASCII (1.4 ms to 0.1 ms), the
# suppression read and the hint's look as plain statements (the ORM's query building cost
# twice the round trip), a hint for a message this process has just sent dropped without
# a query, no savepoints inside a group's transaction, and what a worker loaded at
# startup frozen out of the garbage collector's walks. Groups of 25 measured 0.35 when
# 10 measured 0.32: not worth 25 messages for a person to check after a crash (see
# outreach/sending.py, SEND_GROUP).
GOAL_RATIO = 0.5
# Below the goal, as the rounds of one run spread from 0.42 to 0.62 on a shared machine:
# this fails a regression of a third, not a noisy run.
MINIMUM_RATIO = 0.33
# A Monday morning in UTC: inside every default sending window.
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


class _Counter:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bare_rate(port: int) -> float:
    started = time.perf_counter()
    for i in range(MESSAGES):
        message = EmailMessage()
        message["From"] = "sam@pickwell.example"
        message["To"] = f"bare{i}@company{i}.example"
        message["Subject"] = "Your new warehouse"
        message.set_content("Hi Dana, worth a 15-minute call next week?\n")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as server:
            server.send_message(message)
    return MESSAGES / (time.perf_counter() - started)


def our_rate(port: int) -> float:
    from leads.models import Company, Lead
    from outreach.dispatch import dispatch_due
    from outreach.models import Campaign, Enrollment, Mailbox, Message, SequenceStep
    from outreach.sending import message_send
    from sdr.models import Workspace

    workspace = Workspace.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    try:
        mailbox = Mailbox.unscoped_objects.create(
            workspace=workspace,
            from_name="Sam Reyes",
            from_email="sam@pickwell.example",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security=Mailbox.Security.NONE,
            daily_cap=100_000,
            min_interval_seconds=0,
            postal_address="Pickwell Ltd, 1 Dock Road, Leeds LS1 1AA, UK",
        )
        campaign = Campaign.unscoped_objects.create(
            workspace=workspace,
            name="bench",
            status=Campaign.Status.ACTIVE,
            product="Pick-to-light carts",
            call_to_action="Worth a 15-minute call next week?",
            recipient_domain_daily_cap=100_000,
        )
        campaign.mailboxes.add(mailbox)
        step = SequenceStep.unscoped_objects.create(
            workspace=workspace, campaign=campaign, order=1, kind=SequenceStep.Kind.FIRST_TOUCH
        )
        companies = Company.unscoped_objects.bulk_create(
            Company(workspace=workspace, domain=f"company{i}.example", name=f"Company {i}")
            for i in range(MESSAGES)
        )
        leads = Lead.unscoped_objects.bulk_create(
            Lead(
                workspace=workspace,
                company=company,
                email=f"dana{i}@company{i}.example",
                first_name="Dana",
            )
            for i, company in enumerate(companies)
        )
        enrollments = Enrollment.unscoped_objects.bulk_create(
            Enrollment(workspace=workspace, campaign=campaign, lead=lead, current_step=step)
            for lead in leads
        )
        Message.unscoped_objects.bulk_create(
            Message(
                workspace=workspace,
                enrollment=enrollment,
                step=step,
                status=Message.Status.APPROVED,
                approved_at=NOW - timedelta(hours=1),
                subject="Your new warehouse",
                body="Hi Dana, worth a 15-minute call next week?",
            )
            for enrollment in enrollments
        )

        _warm_up()
        started = time.perf_counter()
        dispatched = dispatch_due(now=NOW)
        dispatch_seconds = time.perf_counter() - started
        # The hints went to the in-memory broker; the sends run here, one after another,
        # as one worker would run them.
        for item in dispatched.queued:
            message_send(message_id=item.message_id)
        elapsed = time.perf_counter() - started
        sending = elapsed - dispatch_seconds
        print(f"  of which: dispatch {dispatch_seconds:.2f} s, sends {sending:.2f} s")
        sent = Message.unscoped_objects.filter(
            workspace=workspace, status=Message.Status.SENT
        ).count()
        assert sent == MESSAGES, (sent, dispatched.summary())
    finally:
        # Messages first: they protect their mailbox and step from a cascade.
        Message.unscoped_objects.filter(workspace=workspace).delete()
        workspace.delete()
    return MESSAGES / elapsed


def _warm_up() -> None:
    """What a long-running worker has done before its first task: loaded the URL conf
    (the unsubscribe link is reversed), the sequences with the drafting pipeline they
    import and the public suffix list (left in the timed part, loading them costs more
    than a hundred sends), and frozen what it loaded (sdr.celery)."""
    from django.urls import get_resolver

    import outreach.sequence_advance  # noqa: F401
    from sdr.domains import registrable_domain
    from sdr.runtime import startup_objects_freeze

    get_resolver().url_patterns  # noqa: B018 - loads every app's URLs
    registrable_domain("pickwell.example")  # reads the public suffix list, once a process
    startup_objects_freeze()


def main() -> int:
    from aiosmtpd.controller import Controller

    django_on_scratch_postgres()
    counter = _Counter()
    port = _free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    rounds = []
    try:
        # Side by side, ROUNDS times: the machine is shared, and a neighbour's burst in
        # one run would otherwise decide the ratio. The median round is reported.
        for number in range(1, ROUNDS + 1):
            bare = bare_rate(port)
            ours = our_rate(port)
            rounds.append((ours / bare, ours, bare))
            print(f"  round {number}: {ours:,.0f} against {bare:,.0f} messages/s")
    finally:
        controller.stop()
    assert counter.received == 2 * MESSAGES * ROUNDS, counter.received
    ratio, ours, bare = sorted(rounds)[len(rounds) // 2]
    print(f"  goal >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'not met'}")
    return report(
        f"Dispatch and send ({MESSAGES} messages, median of {ROUNDS} rounds)",
        ours,
        bare,
        "messages/s",
        MINIMUM_RATIO,
        "bare smtplib loop",
    )


if __name__ == "__main__":
    sys.exit(main())
