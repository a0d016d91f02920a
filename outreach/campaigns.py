"""Writes on campaigns and their sequences."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from outreach.models import Campaign, SequenceStep
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

MAX_STEPS = 6
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
    _apply(campaign, fields)
    campaign.save()
    if steps is not None:
        sequence_set(campaign=campaign, steps=steps)
    return campaign


def _apply(campaign: Campaign, fields: dict[str, Any]) -> None:
    for name in CAMPAIGN_FIELDS:
        if name in fields:
            setattr(campaign, name, fields[name])
    campaign.full_clean(exclude=["workspace"])


def sequence_set(*, campaign: Campaign, steps: list[dict[str, Any]]) -> list[SequenceStep]:
    """Replace the campaign's steps. Steps that already have messages keep their rows."""
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
        step.delay_business_days = spec.get("delay_business_days", 0)
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
