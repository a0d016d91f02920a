"""Writes on campaigns and their sequences."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from outreach.models import Campaign, Enrollment, SequenceStep
from sdr.activity import Event, activities_record, activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

MAX_STEPS = 6
MAX_DELAY_BUSINESS_DAYS = 60
DEFAULT_SEQUENCE = [
    {"kind": SequenceStep.Kind.FIRST_TOUCH, "delay_business_days": 0},
    {"kind": SequenceStep.Kind.FOLLOW_UP, "delay_business_days": 3},
    {"kind": SequenceStep.Kind.BREAK_UP, "delay_business_days": 5},
]
CAMPAIGN_FIELDS = [
    "name",
    "status",
    "product",
    "value_propositions",
    "proof_points",
    "case_studies",
    "call_to_action",
    "tone",
    "style_guide",
    "example_emails",
    "language",
    "allowed_links",
    "sender_name",
    "sender_title",
    "sender_company",
    "autonomy",
    "review_sample_share",
    "max_words_first_touch",
    "max_words_follow_up",
]


@transaction.atomic
def campaign_create(
    *, workspace: Workspace, steps: list[dict[str, Any]] | None = None, **fields: Any
) -> Campaign:
    campaign = Campaign(workspace=workspace)
    _apply(campaign, fields)
    campaign.save()
    sequence_set(campaign=campaign, steps=steps or DEFAULT_SEQUENCE)
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, steps: list[dict[str, Any]] | None = None, **fields: Any
) -> Campaign:
    _editable(campaign)
    # Archiving has consequences (enrollments stop, it is logged): one path for it,
    # whether it comes as the archive action or as a status in an edit.
    archive = fields.get("status") == Campaign.Status.ARCHIVED
    if archive:
        fields = {**fields, "status": campaign.status}
    _apply(campaign, fields)
    campaign.save()
    if steps is not None:
        sequence_set(campaign=campaign, steps=steps)
    if archive:
        campaign = campaign_archive(campaign=campaign)
    return campaign


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    """Archive a campaign: campaigns are kept, never deleted, since their messages,
    outcomes and feedback are the record of what was sent and what it taught.

    Its active enrollments stop (a lead may be active in one campaign only, and an
    archived one will never write again), and no lead can be enrolled into it any more.
    Archiving an archived campaign changes nothing.
    """
    campaign = (
        Campaign.objects.for_workspace(campaign.workspace).select_for_update().get(pk=campaign.pk)
    )
    if campaign.status == Campaign.Status.ARCHIVED:
        return campaign
    previous = campaign.status
    campaign.status = Campaign.Status.ARCHIVED
    campaign.save(update_fields=["status", "updated_at"])
    active = list(
        Enrollment.objects.for_workspace(campaign.workspace)
        .filter(campaign=campaign, status=Enrollment.Status.ACTIVE)
        .values_list("pk", "lead_id")
    )
    now = timezone.now()
    Enrollment.objects.for_workspace(campaign.workspace).filter(
        pk__in=[pk for pk, _ in active]
    ).update(status=Enrollment.Status.STOPPED, stop_reason="Campaign archived", updated_at=now)
    # Their stage was "in a campaign"; they are free to be enrolled elsewhere again.
    Lead.objects.for_workspace(campaign.workspace).filter(
        pk__in=[lead_id for _, lead_id in active], status=Lead.Status.ACTIVE
    ).update(status=Lead.Status.NEW, updated_at=now)
    activity_record(
        workspace=campaign.workspace,
        type="campaign.archived",
        object_type="campaign",
        object_id=campaign.pk,
        payload={"from": previous, "stopped_enrollments": len(active)},
    )
    activities_record(
        workspace=campaign.workspace,
        events=[
            Event(
                "enrollment.stopped",
                "enrollment",
                pk,
                {"lead": str(lead_id), "status": Enrollment.Status.STOPPED, "reason": "archived"},
            )
            for pk, lead_id in active
        ],
    )
    return campaign


def _editable(campaign: Campaign) -> None:
    if campaign.status == Campaign.Status.ARCHIVED:
        raise AppError(
            ErrorCode.CONFLICT,
            "This campaign is archived: it is kept as a record and cannot be changed.",
            status_code=409,
        )


def _apply(campaign: Campaign, fields: dict[str, Any]) -> None:
    for name in CAMPAIGN_FIELDS:
        if name in fields:
            setattr(campaign, name, fields[name])
    campaign.full_clean(exclude=["workspace"])


def sequence_set(*, campaign: Campaign, steps: list[dict[str, Any]]) -> list[SequenceStep]:
    """Replace the campaign's steps. Steps that already have messages keep their rows.

    The rules are here, not in a form, so the API and the web page enforce the same ones.
    """
    _editable(campaign)
    if not steps:
        raise AppError(ErrorCode.INVALID, "A campaign needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise AppError(ErrorCode.INVALID, f"A sequence has at most {MAX_STEPS} steps.")
    kinds = SequenceStep.Kind.values
    unknown = [s.get("kind") for s in steps if s.get("kind", kinds[1]) not in kinds]
    if unknown:
        raise AppError(ErrorCode.INVALID, f"Unknown step kinds: {unknown}.")
    if steps[0].get("kind", SequenceStep.Kind.FIRST_TOUCH) != SequenceStep.Kind.FIRST_TOUCH:
        raise AppError(
            ErrorCode.INVALID,
            "The first step must be a first touch.",
            details={"steps": ["step 1 must be first_touch"]},
        )
    delays = [_delay(order, spec) for order, spec in enumerate(steps, start=1)]
    existing = {
        s.order: s
        for s in SequenceStep.objects.for_workspace(campaign.workspace).filter(campaign=campaign)
    }
    kept = []
    for order, spec in enumerate(steps, start=1):
        step = existing.pop(order, None) or SequenceStep(
            workspace=campaign.workspace, campaign=campaign, order=order
        )
        step.kind = spec.get("kind", SequenceStep.Kind.FOLLOW_UP)
        step.delay_business_days = delays[order - 1]
        step.instructions = spec.get("instructions", "")
        step.full_clean(exclude=["workspace", "campaign"], validate_constraints=False)
        step.save()
        kept.append(step)
    for leftover in existing.values():
        if leftover.messages.exists():
            raise AppError(
                ErrorCode.CONFLICT,
                f"Step {leftover.order} has messages and cannot "
                "be removed; pause the campaign or add steps instead.",
                status_code=409,
            )
        leftover.delete()
    return kept


def _delay(order: int, spec: dict[str, Any]) -> int:
    """The step's delay in business days, 0 to MAX_DELAY_BUSINESS_DAYS (a form sends text)."""
    raw = spec.get("delay_business_days", 0)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DELAY_BUSINESS_DAYS:
        message = f"Step {order}: the delay is 0 to {MAX_DELAY_BUSINESS_DAYS} business days."
        raise AppError(ErrorCode.INVALID, message, details={"steps": [message]})
    return raw
