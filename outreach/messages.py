"""Drafting stored messages: claim, draft through the pipeline, record the outcome.

A message waits in DRAFTING and is drafted in place: a worker claims it with a lease
(`sdr.states.claim`), calls the model with no transaction open, and records the draft only
if the claim is still its own. A worker that dies leaves a lease that runs out; the
sweeper then sends the message to another worker or, after a few tries, marks it failed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.models import Fact
from outreach.briefs_from_db import campaign_brief, lead_brief, step_brief
from outreach.drafting import DraftOutcome, DraftRetryLater, draft_produce
from outreach.models import Campaign, Message
from outreach.review import message_activity
from outreach.variants import draft_plan
from sdr.errors import AppError, ErrorCode
from sdr.queue import hint_each_after_commit
from sdr.states import Claim, claim, lease_renew, transition

REDRAFTABLE = [
    Message.Status.HELD,
    Message.Status.FAILED,
    Message.Status.REJECTED,
    Message.Status.PENDING_REVIEW,
]


DRAFT_RETRY_BASE_SECONDS = 30
DRAFT_RETRY_MAX_SECONDS = 30 * 60


def draft_retry_delay(retries: int) -> int:
    """Seconds before the next try after `retries` transient model errors: doubling, with
    jitter so that a burst of rate-limited drafts does not come back at the same moment."""
    ceiling = min(DRAFT_RETRY_MAX_SECONDS, DRAFT_RETRY_BASE_SECONDS * 2 ** max(0, retries))
    return random.randint(ceiling // 2, ceiling)  # noqa: S311 - jitter, not crypto


def messages_enqueue_drafting(*, message_ids: Iterable) -> None:
    from outreach.tasks import draft_message_task

    hint_each_after_commit(draft_message_task, message_ids)


def message_draft_by_id(*, message_id: str) -> Message | None:
    """Claim a DRAFTING message and draft it; None if another worker has it or it is no
    longer waiting for a draft."""
    held = claim(
        Message,
        message_id,
        source=Message.Status.DRAFTING,
        target=Message.Status.DRAFTING,
        lease=timedelta(seconds=settings.LEASE_DRAFT_SECONDS),
    )
    if held is None:
        return None
    message = Message.unscoped_objects.select_related(
        "workspace", "enrollment__lead__company", "enrollment__campaign", "step"
    ).get(pk=message_id)
    # The lead's and the campaign's workspace is the message's: a query each spared.
    message.enrollment.lead.workspace = message.enrollment.campaign.workspace = message.workspace
    try:
        return message_draft(message=message, held=held)
    except DraftRetryLater:
        # The model is busy or down: the message stays drafting, and its lease ends now so
        # that the task's retry (or the sweeper) can take it again.
        lease_renew(Message, held, lease=timedelta(0))
        raise
    except Exception as error:
        # A bug, not a model failure (those come back as outcomes): mark the message for a
        # person rather than leave it drafting, and let the task fail loudly.
        reason = f"Internal error ({type(error).__name__})"
        with transaction.atomic():
            failed = transition(
                Message,
                message.pk,
                source=Message.Status.DRAFTING,
                target=Message.Status.FAILED,
                token=held.token,
                reason=reason,
            )
            if failed:
                message.refresh_from_db()
                message_activity(message, "message.draft_failed", reason=reason)
        raise


def message_draft(*, message: Message, held: Claim) -> Message:
    """Draft a message this worker has claimed (`held`) and record the outcome."""
    campaign = message.enrollment.campaign
    plan = draft_plan(message=message)  # the campaign's bandit: step variant, angle weights
    outcome = draft_produce(
        workspace=message.workspace,
        lead=lead_brief(message.enrollment.lead),
        campaign=campaign_brief(campaign),
        step=plan.step(step_brief(message.step, message)),
        other_bodies=_other_bodies(message),
        subject_id=str(message.pk),
        avoid_angles=_colleague_angles(message),
        angle_bias=plan.angle_bias,
    )
    with transaction.atomic():
        _record(message, outcome, campaign, held)
    return message


def _other_bodies(message: Message) -> list[str]:
    return list(
        Message.objects.for_workspace(message.workspace)
        .filter(enrollment__campaign_id=message.enrollment.campaign_id, step=message.step)
        .exclude(pk=message.pk)
        .exclude(body="")
        .order_by("-created_at")
        .values_list("body", flat=True)[:500]
    )


def _colleague_angles(message: Message) -> frozenset[str]:
    """Facts already used as the angle for someone else at the same company: two people at
    one company comparing notes should not find the same email."""
    lead = message.enrollment.lead
    if lead.company_id is None:
        return frozenset()
    angles = (
        Message.objects.for_workspace(message.workspace)
        .filter(
            enrollment__campaign_id=message.enrollment.campaign_id,
            enrollment__lead__company_id=lead.company_id,
        )
        .exclude(enrollment__lead=lead)
        .values_list("angle", flat=True)
    )
    return frozenset(a["fact"] for a in angles if isinstance(a, dict) and a.get("fact"))


def _record(message: Message, outcome: DraftOutcome, campaign: Campaign, held: Claim) -> None:
    status, sampled = _status_for(outcome, campaign)
    draft = outcome.draft
    changes: dict[str, object] = {
        "checks": [check.as_dict() for check in outcome.checks],
        "sampled_for_review": sampled,
        # Auto-send approves here: the undo window starts now, as for a person's approval.
        "approved_at": timezone.now() if status == Message.Status.APPROVED else None,
    }
    if draft is not None:
        changes.update(
            subject=draft.subject[:300],
            body=draft.body,
            angle=draft.angle.as_dict(),
            drafter=draft.drafter,
            model=draft.model,
            prompt_version=draft.prompt_version,
        )
    recorded = transition(
        Message,
        message.pk,
        source=Message.Status.DRAFTING,
        target=status,
        token=held.token,
        reason=outcome.reason,
        **changes,
    )
    # Its own fields only: the rows it points at did not change, and stay loaded.
    message.refresh_from_db(fields=_OWN_FIELDS)
    if not recorded:
        return  # the sweeper took it back from this worker; the draft goes unused
    if draft is not None:
        cited = Fact.objects.for_workspace(message.workspace).filter(pk__in=draft.citations)
        message.cited_facts.set(cited)
    message_activity(
        message,
        "message.drafted" if draft is not None else "message.draft_failed",
        reason=outcome.reason[:500],
        drafter=message.drafter,
    )


_OWN_FIELDS = [f.attname for f in Message._meta.concrete_fields if not f.is_relation]


def _status_for(outcome: DraftOutcome, campaign: Campaign) -> tuple[str, bool]:
    if outcome.status == "failed":
        return Message.Status.FAILED, False
    if outcome.status == "held":
        return Message.Status.HELD, False
    if campaign.autonomy == Campaign.Autonomy.AUTO_SEND:
        sampled = random.random() < campaign.review_sample_share  # noqa: S311 - sampling, not crypto
        return (Message.Status.PENDING_REVIEW if sampled else Message.Status.APPROVED), sampled
    return Message.Status.PENDING_REVIEW, False


def message_redraft(*, message: Message) -> Message:
    """Send a draft back through drafting (a person asked): a held, failed, rejected or
    waiting draft, or one stuck in drafting whose worker's lease ran out."""
    previous = message.status
    with transaction.atomic():
        moved = transition(
            Message,
            message.pk,
            source=[*REDRAFTABLE, Message.Status.DRAFTING],
            target=Message.Status.DRAFTING,
            attempts=0,  # a new request: the sweeper's retries count from here
        )
        message.refresh_from_db()
        if not moved:
            if message.status == Message.Status.DRAFTING:
                raise AppError(
                    ErrorCode.CONFLICT,
                    "This message is being drafted right now.",
                    status_code=409,
                )
            raise AppError(
                ErrorCode.CONFLICT,
                f"A {message.get_status_display().lower()} draft cannot be redrafted.",
                status_code=409,
            )
        message_activity(message, "message.redraft_requested", previous=previous)
        messages_enqueue_drafting(message_ids=[message.pk])
    return message
