"""One way to change the state of a row that has side effects, and the sweeper behind it.

A state change is a conditional UPDATE from the expected state: of two workers holding the
same task, exactly one sees "1 row changed" and goes on (STYLE.md, habit 5). Running
states carry a lease (`claimed_until`) and a `claim_token`; a worker that outlives its
lease finds its token gone and stops writing. The sweeper (beat, every minute) moves rows
whose lease ran out to the state their model names, and hands the broker again the rows
that wait in a queued state: the database row is the truth about pending work, the broker
only a hint to start now.

Each model says how its states work with a `StateMachine` (its field names, the running
states and where an expired lease goes, the queued states and how to start them again),
registered by its app. The core never imports the apps.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


class Leased(models.Model):
    """The lease fields of a row that a worker claims."""

    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Expiry:
    """Where a row goes when the lease of its running state runs out.

    Below `max_attempts` it goes to `retry` (and is started again); at the limit, or when
    `retry` is None, it goes to `give_up` with `reason`, for a person to look at.
    """

    give_up: str
    reason: str
    retry: str | None = None
    max_attempts: int = 3


@dataclass
class StateMachine:
    model: type[models.Model]
    object_type: str  # for the activity log: "company", "import", "message"
    field: str = "status"
    reason_field: str = ""
    attempts_field: str = "attempts"
    running: dict[str, Expiry] = dataclasses.field(default_factory=dict)
    # Queued states: rows waiting for a worker. `start(ids)` sends the hint again.
    queued: tuple[str, ...] = ()
    start: Callable[[list[Any]], object] | None = None
    # How long a queued row may wait before the sweeper assumes the broker lost its hint.
    requeue_after: timedelta = timedelta(minutes=5)


_machines: dict[type[models.Model], StateMachine] = {}


def register(machine: StateMachine) -> StateMachine:
    _machines[machine.model] = machine
    return machine


def machine_for(model: type[models.Model]) -> StateMachine:
    try:
        return _machines[model]
    except KeyError:
        raise LookupError(f"{model.__name__} has no registered StateMachine.") from None


def machines() -> list[StateMachine]:
    return list(_machines.values())


@dataclass(frozen=True)
class Claim:
    """A won claim: keep the token to renew the lease and to write results."""

    pk: Any
    token: uuid.UUID


def transition(
    model: type[models.Model],
    pk: Any,
    /,
    *,
    source: str | Iterable[str],
    target: str,
    reason: str | None = None,
    token: uuid.UUID | None = None,
    **changes: Any,
) -> bool:
    """Move one row from one of `source` to `target`; False if it was not in `source`
    (or, with `token`, if that claim is no longer ours). Extra keyword arguments are set in
    the same UPDATE; `model` and `pk` are positional-only so that a row's own fields of
    those names (a message's `model`) can be among them.

    Without `token`, a row in a running state moves only once its lease is absent or ran
    out: nobody but the worker holding it takes a row from a live worker (a person's
    "try again" on a row whose worker died is fine; on one still at work it is refused).
    Leaving a running state, or any move made without the claim's token, ends the lease.
    """
    machine = machine_for(model)
    condition = Q(pk=pk) & _from(machine, _states(source), token)
    return _update(model, condition, _moved(machine, target, reason, token, changes)) == 1


def transition_many(
    model: type[models.Model],
    pks: Iterable[Any],
    /,
    *,
    source: str | Iterable[str],
    target: str,
    reason: str | None = None,
    token: uuid.UUID | None = None,
    **changes: Any,
) -> list[Any]:
    """`transition` for many rows at once; returns the pks that moved, so the caller can
    act on exactly those (send their hints). With `token`, only the rows that claim still
    holds move (a worker recording the work it did under `claim_many`)."""
    machine = machine_for(model)
    condition = Q(pk__any=list(pks)) & _from(machine, _states(source), token)
    # No savepoint inside a caller's transaction (a round trip each way, on every send
    # group): nothing here is caught, so a failure ends the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        # Lock first, then update the locked rows: the UPDATE alone cannot tell which rows
        # it changed. Locking in pk order keeps two callers from deadlocking; NO KEY, all
        # a state change needs, keeps a commit that checks a foreign key to these rows
        # (KEY SHARE) from waiting on us while we wait on it.
        moved = list(
            model._default_manager.filter(condition)
            .order_by("pk")
            .select_for_update(no_key=True)
            .values_list("pk", flat=True)
        )
        if moved:
            _update(model, Q(pk__any=moved), _moved(machine, target, reason, token, changes))
    return moved


def _states(source: str | Iterable[str]) -> list[str]:
    return [source] if isinstance(source, str) else list(source)


def _lease_over(now: Any) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def _from(machine: StateMachine, sources: list[str], token: uuid.UUID | None) -> Q:
    condition = Q(**{f"{machine.field}__in": sources})
    if token is not None:
        return condition & Q(claim_token=token)
    held = [state for state in sources if state in machine.running]
    if held:
        condition &= ~Q(**{f"{machine.field}__in": held}) | _lease_over(timezone.now())
    return condition


def _moved(
    machine: StateMachine,
    target: str,
    reason: str | None,
    token: uuid.UUID | None,
    changes: dict[str, Any],
) -> dict[str, Any]:
    updates: dict[str, Any] = {machine.field: target, **changes}
    if target not in machine.running or token is None:
        updates.update(claimed_until=None, claim_token=None)
    if reason is not None and machine.reason_field:
        updates[machine.reason_field] = reason[:2000]
    return updates


def claim(
    model: type[models.Model],
    pk: Any,
    /,
    *,
    source: str | Iterable[str],
    target: str,
    lease: timedelta,
    where: Q | None = None,
    **changes: Any,
) -> Claim | None:
    """Take a row for work: `source` to the running state `target`, with a lease, counting
    the attempt. When `target` is also a source (a row drafted in place), only a row whose
    lease is absent or expired can be taken. `where` adds conditions checked by the same
    UPDATE (a message still clear to send)."""
    token = uuid.uuid4()
    condition, updates = _claiming(model, source, target, lease, where, token, changes)
    return Claim(pk, token) if _update(model, Q(pk=pk) & condition, updates) == 1 else None


def claim_many(
    model: type[models.Model],
    pks: Iterable[Any],
    /,
    *,
    source: str | Iterable[str],
    target: str,
    lease: timedelta,
    where: Q | None = None,
    **changes: Any,
) -> tuple[uuid.UUID, list[Any]]:
    """`claim` for many rows under one token, which the worker then records them with
    (`transition_many(token=...)`): returns the token and the pks taken. A row another
    transaction holds is skipped, not waited for; `where` may reach other tables (their
    rows are read, not locked)."""
    token = uuid.uuid4()
    condition, updates = _claiming(model, source, target, lease, where, token, changes)
    with transaction.atomic(savepoint=False):  # as in transition_many
        # As in transition_many: lock, then update exactly the locked rows.
        taken = list(
            model._default_manager.filter(Q(pk__in=list(pks)) & condition)
            .order_by("pk")
            .select_for_update(no_key=True, skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if taken:
            _update(model, Q(pk__in=taken), updates)
    return token, taken


def _claiming(
    model: type[models.Model],
    source: str | Iterable[str],
    target: str,
    lease: timedelta,
    where: Q | None,
    token: uuid.UUID,
    changes: dict[str, Any],
) -> tuple[Q, dict[str, Any]]:
    """A claim's condition (the expected state, a lease out when a row is drafted in
    place, `where`) and its update (the running state, the lease, the attempt)."""
    machine = machine_for(model)
    if target not in machine.running:
        raise ValueError(f"{target!r} is not a running state of {model.__name__}.")
    sources = _states(source)
    now = timezone.now()
    condition = Q(**{f"{machine.field}__in": sources})
    if target in sources:
        condition &= _lease_over(now)
    if where is not None:
        condition &= where
    updates = {
        machine.field: target,
        "claimed_until": now + lease,
        "claim_token": token,
        machine.attempts_field: F(machine.attempts_field) + 1,
        **changes,
    }
    return condition, updates


def lease_renew(
    model: type[models.Model], held: Claim, /, *, lease: timedelta, **changes: Any
) -> bool:
    """Extend a lease we still hold (a long import, batch by batch); False if it was lost."""
    condition = Q(pk=held.pk, claim_token=held.token)
    return _update(model, condition, {"claimed_until": timezone.now() + lease, **changes}) == 1


def _update(model: type[models.Model], condition: Q, updates: dict[str, Any]) -> int:
    if any(f.name == "updated_at" for f in model._meta.get_fields()):
        updates.setdefault("updated_at", timezone.now())
    return model._default_manager.filter(condition).update(**updates)


# --- the sweeper ------------------------------------------------------------------------


@dataclass
class SweepReport:
    expired: dict[str, int] = dataclasses.field(default_factory=dict)
    requeued: dict[str, int] = dataclasses.field(default_factory=dict)

    def count(self, kind: dict[str, int], machine: StateMachine, n: int) -> None:
        if n:
            kind[machine.object_type] = kind.get(machine.object_type, 0) + n


def sweep(*, limit: int = 500) -> SweepReport:
    """Return rows whose lease expired, and queue again what the broker never started."""
    report = SweepReport()
    for machine in machines():
        report.count(report.expired, machine, _expire(machine, limit=limit))
        report.count(report.requeued, machine, _requeue(machine, limit=limit))
    if report.expired or report.requeued:
        logger.info("sweeper: expired %s, requeued %s", report.expired, report.requeued)
    return report


def _expire(machine: StateMachine, *, limit: int) -> int:
    from sdr.activity import SYSTEM, Event, activities_record

    model, now, moved = machine.model, timezone.now(), 0
    for state, expiry in machine.running.items():
        rows = list(
            model._default_manager.filter(
                Q(**{machine.field: state}) & _expired(machine, state, now)
            )
            .order_by("claimed_until")
            .values("pk", "workspace_id", machine.attempts_field)[:limit]
        )
        retried = []
        for row in rows:
            attempts = row[machine.attempts_field]
            retry_state = expiry.retry if attempts < expiry.max_attempts else None
            retry = retry_state is not None
            target = expiry.give_up if retry_state is None else retry_state
            reason = (
                f"{expiry.reason} Trying again (attempt {attempts + 1} of {expiry.max_attempts})."
                if retry
                else expiry.reason
            )
            with transaction.atomic():
                if not _expire_one(machine, row["pk"], state, target, reason, now):
                    continue  # the worker finished or renewed meanwhile
                event = Event(
                    f"{machine.object_type}.lease_expired",
                    machine.object_type,
                    row["pk"],
                    {"from": state, "to": target, "attempts": attempts, "reason": reason},
                )
                activities_record(workspace=row["workspace_id"], events=[event], actor=SYSTEM)
            moved += 1
            if retry:
                retried.append(row["pk"])
        if retried and machine.start is not None:
            machine.start(retried)
    return moved


def _expired(machine: StateMachine, state: str, now: Any) -> Q:
    """The rows of a running state whose lease ran out. A row in a purely running state
    with no lease at all (set by hand, or running since before leases existed) has no
    worker anyone could wait for, so it counts as expired too; in a state that is also a
    queued one (a message drafted in place), no lease means "waiting", not "lost"."""
    if state in machine.queued:
        return Q(claimed_until__lt=now)
    return _lease_over(now)


def _expire_one(
    machine: StateMachine, pk: Any, state: str, target: str, reason: str, now: Any
) -> bool:
    condition = Q(pk=pk, **{machine.field: state}) & _expired(machine, state, now)
    # The lease always ends: a row sent back to wait is claimed afresh by the next worker.
    updates: dict[str, Any] = {machine.field: target, "claimed_until": None, "claim_token": None}
    if machine.reason_field:
        updates[machine.reason_field] = reason[:2000]
    return _update(machine.model, condition, updates) == 1


def _requeue(machine: StateMachine, *, limit: int) -> int:
    """Queued rows untouched for a while: their hint was lost (broker down) or is stuck
    behind a backlog. Sending it again is safe, since the task claims before it acts;
    touching `updated_at` keeps a backlog from being sent again every minute."""
    if not machine.queued or machine.start is None:
        return 0
    model = machine.model
    cutoff = timezone.now() - machine.requeue_after
    condition = Q(**{f"{machine.field}__in": machine.queued}, updated_at__lt=cutoff)
    condition &= _lease_over(timezone.now())
    ids = list(model._default_manager.filter(condition).values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    model._default_manager.filter(pk__in=ids).update(updated_at=timezone.now())
    machine.start(ids)
    return len(ids)
