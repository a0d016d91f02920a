"""Outcomes: what came of contacting a lead, once per lead and kind, and what follows.

An outcome is what the ranking learns from and, later, what billing charges for, so it is
recorded once (the database's unique constraint, not a read-then-write, decides) and
carries its evidence. Recording one stops the lead's active sequence where it should,
suppresses the address for unsubscribes and bounces, pauses the colleagues' sequences at
the same company after an answer (campaigns with `pause_colleagues_on_reply`), and sets
the lead's stage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.ledger import billable_event_for_outcome
from leads.contactability import suppression_add
from leads.models import Lead, Suppression
from leads.services import leads_touch
from outreach.enrollment_status import enrollments_move
from outreach.models import Enrollment, Outcome
from ranking.tasks import outcome_rescore_task
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.queue import hint_after_commit

# Outcomes after which the lead is not enrolled again (no_response may be tried later).
FINAL = [
    Outcome.Kind.POSITIVE_REPLY,
    Outcome.Kind.MEETING_BOOKED,
    Outcome.Kind.NOT_INTERESTED,
    Outcome.Kind.BOUNCED,
    Outcome.Kind.UNSUBSCRIBED,
]
# Keyed by str: an outcome read back from the database has a plain str kind.
_STAGE: dict[str, Lead.Status] = {
    Outcome.Kind.POSITIVE_REPLY: Lead.Status.REPLIED,
    Outcome.Kind.MEETING_BOOKED: Lead.Status.MEETING,
    Outcome.Kind.NOT_INTERESTED: Lead.Status.NOT_INTERESTED,
    Outcome.Kind.BOUNCED: Lead.Status.BOUNCED,
    Outcome.Kind.UNSUBSCRIBED: Lead.Status.UNSUBSCRIBED,
}
_SUPPRESS: dict[str, Suppression.Source] = {
    Outcome.Kind.BOUNCED: Suppression.Source.BOUNCE,
    Outcome.Kind.UNSUBSCRIBED: Suppression.Source.UNSUBSCRIBE,
}
_ENROLLMENT_END: dict[str, Enrollment.Status] = {
    Outcome.Kind.POSITIVE_REPLY: Enrollment.Status.REPLIED,
    Outcome.Kind.MEETING_BOOKED: Enrollment.Status.REPLIED,
    Outcome.Kind.NOT_INTERESTED: Enrollment.Status.REPLIED,
    Outcome.Kind.BOUNCED: Enrollment.Status.STOPPED,
    Outcome.Kind.UNSUBSCRIBED: Enrollment.Status.STOPPED,
    Outcome.Kind.NO_RESPONSE: Enrollment.Status.FINISHED,
}

# An answer from one person at a company pauses the sequences of their colleagues there
# (in campaigns that ask for it): two people comparing notes should not find a third email.
_COLLEAGUES_PAUSE = {
    Outcome.Kind.POSITIVE_REPLY,
    Outcome.Kind.MEETING_BOOKED,
    Outcome.Kind.NOT_INTERESTED,
}


def outcome_record(
    *,
    lead: Lead,
    kind: str,
    evidence: str,
    source: str,
    occurred_at: datetime | None = None,
    user: User | None = None,
    evidence_type: str = "",
    evidence_id: Any = "",
) -> tuple[Outcome, bool]:
    """Record an outcome; (outcome, created). The same lead and kind again returns the
    first one unchanged."""
    if kind not in Outcome.Kind.values:
        raise AppError(ErrorCode.INVALID, f"kind must be one of {', '.join(Outcome.Kind.values)}.")
    evidence = (evidence or "").strip()
    if not evidence:
        raise AppError(
            ErrorCode.INVALID,
            "Say what proves the outcome (the reply, the booking, who reported it).",
            details={"evidence": ["This field is required."]},
        )
    existing = _existing(lead, kind)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            outcome = Outcome.objects.for_workspace(lead.workspace).create(
                workspace=lead.workspace,
                lead=lead,
                kind=kind,
                evidence=evidence[:5000],
                evidence_type=evidence_type,
                evidence_id=str(evidence_id or ""),
                occurred_at=occurred_at or timezone.now(),
                source=source,
                created_by=user if getattr(user, "pk", None) else None,
            )
            activity_record(
                workspace=lead.workspace,
                type="outcome.created",
                object_type="outcome",
                object_id=outcome.pk,
                payload={"lead": str(lead.pk), "kind": kind, "source": source},
            )
            leads_touch({lead.pk: outcome.occurred_at})
            _follow_up(lead, outcome)
            # The charge commits with the outcome or not at all; billing's unique
            # constraint (workspace, lead, kind) keeps it to one.
            billable_event_for_outcome(outcome)
            # The ranking learns from it once committed (it re-scores many leads: a task).
            hint_after_commit(outcome_rescore_task, str(lead.workspace_id), str(lead.pk))
    except IntegrityError:
        # Recorded by another request between our read and our insert.
        existing = _existing(lead, kind)
        if existing is None:
            raise  # another constraint failed, not the one outcome per lead and kind
        return existing, False
    return outcome, True


def _existing(lead: Lead, kind: str) -> Outcome | None:
    return Outcome.objects.for_workspace(lead.workspace).filter(lead=lead, kind=kind).first()


def _follow_up(lead: Lead, outcome: Outcome) -> None:
    kind = outcome.kind
    if kind in _SUPPRESS and lead.email:
        suppression_add(
            workspace=lead.workspace,
            value=lead.email,
            reason=f"{outcome.get_kind_display()}: {outcome.evidence[:200]}",
            source=_SUPPRESS[kind],
        )
    if kind in _ENROLLMENT_END:
        enrollments_move(
            Enrollment.objects.for_workspace(lead.workspace).filter(
                lead=lead, status=Enrollment.Status.ACTIVE
            ),
            status=_ENROLLMENT_END[kind],
            reason=outcome.get_kind_display(),
            activity="enrollment.stopped",
            payload={"outcome": kind},
        )
    if kind in _COLLEAGUES_PAUSE:
        _pause_colleagues(lead, outcome)
    if kind in _STAGE:
        Lead.objects.for_workspace(lead.workspace).filter(pk=lead.pk).update(
            status=_STAGE[kind], updated_at=timezone.now()
        )


def _pause_colleagues(lead: Lead, outcome: Outcome) -> None:
    if lead.company_id is None:
        return
    colleagues = (
        Enrollment.objects.for_workspace(lead.workspace)
        .filter(
            lead__company_id=lead.company_id,
            status=Enrollment.Status.ACTIVE,
            campaign__pause_colleagues_on_reply=True,
        )
        .exclude(lead=lead)
    )
    # No name in the reason: it outlives an erasure of the colleague; the activity links them.
    reason = (
        f"paused: a colleague at the same company answered ({outcome.get_kind_display().lower()})"
    )
    enrollments_move(
        colleagues,
        status=Enrollment.Status.PAUSED,
        reason=reason,
        activity="enrollment.paused",
        payload={"because_of": str(lead.pk), "outcome": outcome.kind},
    )
