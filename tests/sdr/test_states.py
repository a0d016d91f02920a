"""The one helper for state changes: conditional moves, claims with a lease, the token."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from leads.models import Company, ImportJob
from outreach.models import Message
from sdr.states import (
    claim,
    claim_many,
    lease_renew,
    machine_for,
    transition,
    transition_many,
)
from tests.factories import CompanyFactory, ImportJobFactory, MessageFactory
from tests.locks import key_share_held, lock_held, lock_timeout

LEASE = timedelta(minutes=5)
QUEUED, RUNNING = Company.EnrichStatus.QUEUED, Company.EnrichStatus.RUNNING


def expire(row) -> None:
    """The worker holding `row` went silent: its lease ran out a minute ago."""
    type(row).unscoped_objects.filter(pk=row.pk).update(
        claimed_until=timezone.now() - timedelta(minutes=1)
    )


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def test_every_stateful_model_has_its_machine():
    assert machine_for(ImportJob).object_type == "import"
    assert machine_for(Company).field == "enrich_status"
    assert machine_for(Message).queued == (Message.Status.DRAFTING, Message.Status.QUEUED)


@pytest.mark.django_db(transaction=True)
def test_of_many_workers_claiming_one_row_exactly_one_wins():
    company = CompanyFactory(enrich_status=QUEUED)
    workers = 8
    start = threading.Barrier(workers)
    claims = []

    def work():
        try:
            start.wait()
            claims.append(claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    won = [held for held in claims if held is not None]
    assert len(claims) == workers and len(won) == 1
    company = fresh(company)
    assert (company.enrich_status, company.attempts) == (RUNNING, 1)
    assert company.claim_token == won[0].token


@pytest.mark.django_db(transaction=True)
def test_queueing_companies_never_waits_for_a_commit_checking_a_lead_of_theirs():
    """A bulk upsert that saved leads of a company checks their foreign key as it commits,
    with a KEY SHARE lock on the company, while another queues the company's research.
    FOR UPDATE waits for KEY SHARE, and the commit, checking the next company, waited for
    it: a deadlock, seen as a 500 in the sync client test. FOR NO KEY UPDATE, all a status
    change needs, does not wait for KEY SHARE."""
    company = CompanyFactory(enrich_status=Company.EnrichStatus.NEVER)
    with key_share_held(company), lock_timeout():
        moved = transition_many(
            Company, [company.pk], source=Company.EnrichStatus.values, target=QUEUED
        )

    assert moved == [company.pk]
    assert fresh(company).enrich_status == QUEUED


def test_a_claim_sets_a_lease_and_counts_the_attempt(db):
    company = CompanyFactory(enrich_status=QUEUED)
    before = timezone.now()
    held = claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    company = fresh(company)
    assert held is not None and company.claim_token == held.token
    assert company.claimed_until >= before + LEASE
    assert company.attempts == 1
    # The row is no longer queued: a redelivered hint claims nothing.
    assert claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE) is None


def test_only_a_running_state_can_be_claimed_into(db):
    company = CompanyFactory(enrich_status=QUEUED)
    with pytest.raises(ValueError, match="not a running state"):
        claim(Company, company.pk, source=QUEUED, target=Company.EnrichStatus.DONE, lease=LEASE)


def test_a_transition_happens_only_from_the_expected_state(db):
    job = ImportJobFactory(status=ImportJob.Status.MAPPING)
    assert transition(
        ImportJob, job.pk, source=ImportJob.Status.MAPPING, target=ImportJob.Status.QUEUED
    )
    assert not transition(
        ImportJob, job.pk, source=ImportJob.Status.MAPPING, target=ImportJob.Status.QUEUED
    )
    assert fresh(job).status == ImportJob.Status.QUEUED


def test_leaving_a_running_state_ends_the_lease_and_records_the_reason(db):
    company = CompanyFactory(enrich_status=QUEUED)
    held = claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    assert transition(
        Company,
        company.pk,
        source=RUNNING,
        target=Company.EnrichStatus.FAILED,
        token=held.token,
        reason="The home page could not be read.",
    )
    company = fresh(company)
    assert (company.claimed_until, company.claim_token) == (None, None)
    assert company.enrich_error == "The home page could not be read."


def test_a_worker_whose_claim_was_taken_back_cannot_write(db):
    company = CompanyFactory(enrich_status=QUEUED)
    old = claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    # Its lease ran out, the row went back to the queue and another worker took it.
    expire(company)
    assert transition(Company, company.pk, source=RUNNING, target=QUEUED)
    new = claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)

    assert not lease_renew(Company, old, lease=LEASE)
    assert not transition(
        Company, company.pk, source=RUNNING, target=Company.EnrichStatus.DONE, token=old.token
    )
    assert lease_renew(Company, new, lease=LEASE)
    assert transition(
        Company, company.pk, source=RUNNING, target=Company.EnrichStatus.DONE, token=new.token
    )
    assert fresh(company).attempts == 2


def test_a_live_lease_is_not_taken_without_its_token(db):
    company = CompanyFactory(enrich_status=QUEUED)
    claim(Company, company.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    assert not transition(Company, company.pk, source=RUNNING, target=QUEUED)
    expire(company)
    assert transition(Company, company.pk, source=RUNNING, target=QUEUED)


def test_a_renewed_lease_moves_the_deadline_and_writes_progress(db):
    job = ImportJobFactory(status=ImportJob.Status.QUEUED)
    held = claim(
        ImportJob,
        job.pk,
        source=ImportJob.Status.QUEUED,
        target=ImportJob.Status.RUNNING,
        lease=timedelta(seconds=1),
    )
    before = timezone.now()
    assert lease_renew(ImportJob, held, lease=LEASE, batches_done=3)
    job = fresh(job)
    assert job.batches_done == 3 and job.claimed_until >= before + LEASE


def test_drafting_in_place_takes_only_a_message_nobody_holds(db):
    message = MessageFactory(status=Message.Status.DRAFTING)
    drafting = Message.Status.DRAFTING
    first = claim(Message, message.pk, source=drafting, target=drafting, lease=LEASE)
    assert first is not None
    assert claim(Message, message.pk, source=drafting, target=drafting, lease=LEASE) is None
    expire(message)
    second = claim(Message, message.pk, source=drafting, target=drafting, lease=LEASE)
    assert second is not None and second.token != first.token
    assert fresh(message).attempts == 2


def test_transition_many_moves_and_names_exactly_the_rows_it_may(db, workspace):
    waiting = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    done = CompanyFactory(workspace=workspace, enrich_status=Company.EnrichStatus.DONE)
    busy = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    claim(Company, busy.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    dead = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    claim(Company, dead.pk, source=QUEUED, target=RUNNING, lease=LEASE)
    expire(dead)

    moved = transition_many(
        Company,
        [waiting.pk, done.pk, busy.pk, dead.pk],
        source=[QUEUED, Company.EnrichStatus.DONE, RUNNING],
        target=QUEUED,
        attempts=0,
    )

    assert sorted(moved) == sorted([waiting.pk, done.pk, dead.pk])
    assert fresh(busy).enrich_status == RUNNING and fresh(busy).claim_token is not None
    assert (fresh(dead).enrich_status, fresh(dead).claim_token) == (QUEUED, None)


def test_claim_many_takes_under_one_token_the_rows_free_to_take(db, workspace):
    free = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    other = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    done = CompanyFactory(workspace=workspace, enrich_status=Company.EnrichStatus.DONE)
    unwanted = CompanyFactory(workspace=workspace, enrich_status=QUEUED, name="Not this one")

    token, taken = claim_many(
        Company,
        [free.pk, other.pk, done.pk, unwanted.pk],
        source=QUEUED,
        target=RUNNING,
        lease=LEASE,
        where=~Q(name="Not this one"),
    )

    assert sorted(taken) == sorted([free.pk, other.pk])
    for company in (fresh(free), fresh(other)):
        assert (company.enrich_status, company.claim_token, company.attempts) == (
            RUNNING,
            token,
            1,
        )
        assert company.claimed_until > timezone.now() + LEASE - timedelta(minutes=1)
    assert fresh(done).enrich_status == Company.EnrichStatus.DONE
    assert fresh(unwanted).enrich_status == QUEUED
    with pytest.raises(ValueError, match="not a running state"):
        claim_many(Company, [done.pk], source=QUEUED, target=QUEUED, lease=LEASE)


@pytest.mark.django_db(transaction=True)
def test_claim_many_skips_a_row_another_transaction_holds_instead_of_waiting():
    held, free = CompanyFactory(enrich_status=QUEUED), CompanyFactory(enrich_status=QUEUED)
    with lock_held(held, "FOR UPDATE"), lock_timeout():
        _, taken = claim_many(
            Company, [held.pk, free.pk], source=QUEUED, target=RUNNING, lease=LEASE
        )

    assert taken == [free.pk]
    assert fresh(held).enrich_status == QUEUED


def test_transition_many_with_a_token_moves_only_the_rows_that_claim_holds(db, workspace):
    mine = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    swept = CompanyFactory(workspace=workspace, enrich_status=QUEUED)
    token, _ = claim_many(Company, [mine.pk, swept.pk], source=QUEUED, target=RUNNING, lease=LEASE)
    # The sweeper took `swept` back and another worker claimed it.
    expire(swept)
    assert claim(Company, swept.pk, source=RUNNING, target=RUNNING, lease=LEASE)

    moved = transition_many(
        Company,
        [mine.pk, swept.pk],
        source=RUNNING,
        target=Company.EnrichStatus.DONE,
        token=token,
    )

    assert moved == [mine.pk]
    mine, swept = fresh(mine), fresh(swept)
    assert (mine.enrich_status, mine.claim_token, mine.claimed_until) == (
        Company.EnrichStatus.DONE,
        None,
        None,
    )
    assert swept.enrich_status == RUNNING and swept.claim_token not in (None, token)


# --- lease settings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LEASE_IMPORT_SECONDS": "soon"}, "LEASE_IMPORT_SECONDS must be a whole number"),
        ({"LEASE_DRAFT_SECONDS": "0"}, "LEASE_DRAFT_SECONDS must be at least 1"),
        # A lease shorter than the task may run would hand a live task's row to another.
        (
            {"CELERY_TASK_TIME_LIMIT": "300", "LEASE_ENRICH_SECONDS": "120"},
            "LEASE_ENRICH_SECONDS (120) must be longer than CELERY_TASK_TIME_LIMIT (300)",
        ),
    ],
)
def test_bad_lease_settings_stop_the_process_at_start(env, message):
    from tests.sdr.test_settings import run_settings

    result = run_settings(env)
    assert result.returncode != 0
    assert message in result.stderr


def test_leases_follow_the_task_time_limit_by_default(settings):
    assert settings.LEASE_ENRICH_SECONDS > settings.CELERY_TASK_TIME_LIMIT
    assert settings.LEASE_DRAFT_SECONDS > settings.CELERY_TASK_TIME_LIMIT
    assert settings.LEASE_IMPORT_SECONDS == settings.CELERY_TASK_TIME_LIMIT
