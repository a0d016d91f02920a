"""Many outcomes at once from several workers: one ledger row per lead and kind, and one
meter event at Stripe for each. Real threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from billing.models import BillableEvent
from billing.reporting import events_report_pending
from outreach.models import Outcome
from outreach.outcomes import outcome_record
from tests.billing.helpers import make_lead, make_workspace, subscribed
from tests.stripe_server import FakeStripe

WORKERS = 6
LEADS = 8
METER_EVENTS = "/v1/billing/meter_events"


def run_in_threads(target: Callable[[int], object], n: int) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def work(i: int) -> None:
        try:
            start.wait()
            target(i)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_outcomes_recorded_at_once_by_several_workers_are_billed_and_reported_once(
    stripe_server: FakeStripe,
) -> None:
    workspace = make_workspace(slug="busy")
    subscribed(workspace, stripe_server)
    leads = [make_lead(workspace) for _ in range(LEADS)]

    def record(worker: int) -> None:
        # Every worker sees every lead's positive reply and meeting (replies read twice,
        # a CRM and the inbox reporting the same meeting), in a different order.
        for lead in leads[worker % LEADS :] + leads[: worker % LEADS]:
            for kind in (Outcome.Kind.POSITIVE_REPLY, Outcome.Kind.MEETING_BOOKED):
                outcome_record(lead=lead, kind=kind, evidence=f"worker {worker}", source="reply")

    assert run_in_threads(record, WORKERS) == []
    # And the outbox passes running at once on several workers afterwards
    assert run_in_threads(lambda _: events_report_pending(), WORKERS) == []

    events = BillableEvent.objects.for_workspace(workspace)
    assert events.count() == LEADS * 2
    assert Counter(events.values_list("lead_id", "kind")).most_common(1)[0][1] == 1
    assert set(events.values_list("status", flat=True)) == {BillableEvent.Status.REPORTED}
    assert len(stripe_server.meter_events) == LEADS * 2
    assert set(stripe_server.meter_events) == {
        str(pk) for pk in events.values_list("pk", flat=True)
    }
    # Each was sent once: claims, not Stripe's duplicate check, kept the workers apart.
    assert stripe_server.paths().count(METER_EVENTS) == LEADS * 2
