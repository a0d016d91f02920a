"""Step variants and angles that compete: a bandit per campaign, and the A/B report.

A sequence step may carry variants (`SequenceStep.variants`, a JSON list of
`{"key": "A", "label": "Short question", "instructions": "..."}`): each draft of that step
uses one, whose instructions replace the step's, and the message records its key
(`Message.variant`) beside the angle kind it used (`Message.angle["kind"]`).

Which variant, and which angle among a lead's usable ones, is decided by Thompson
sampling over Beta posteriors of the campaign's own results: a sent message is a success
when a positive reply or a booked meeting came of it. The credit goes to the message the
lead answered; an outcome recorded without a reply (a meeting booked through the CRM)
goes to the last message sent before it. The prior is centred on the campaign's pooled
rate, so a new arm starts as "about average, unsure" rather than at 50%, which at cold
email reply rates would send most drafts to whatever was never tried.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.fields.json import KT
from scipy.stats import binomtest  # type: ignore[import-untyped,unused-ignore]

from outreach.drafting.angles import ANGLE_KINDS
from outreach.drafting.briefs import StepBrief
from outreach.models import Campaign, Message, Outcome, Reply, SequenceStep
from sdr.errors import AppError, ErrorCode

POSITIVE = (Outcome.Kind.POSITIVE_REPLY, Outcome.Kind.MEETING_BOOKED)
# Pseudo-sends the pooled prior is worth: small, so a few real sends outweigh it.
PRIOR_STRENGTH = 2.0
CONFIDENCE = 0.95
MAX_VARIANTS = 5
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")

_rng = np.random.default_rng()


# -- variants of a step ------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    instructions: str


def step_variants(step: SequenceStep) -> list[Variant]:
    """The step's variants as stored (validated on the way in by `variants_clean`)."""
    return [
        Variant(
            key=str(item["key"]),
            label=str(item.get("label") or item["key"]),
            instructions=str(item.get("instructions") or ""),
        )
        for item in step.variants or []
        if isinstance(item, dict) and item.get("key")
    ]


def variants_clean(raw: Any) -> list[dict[str, str]]:
    """Check a list of variants from a person or the API; raises AppError saying what is
    wrong. Keys name the variant in reports, so they are short, plain and unique."""
    if not isinstance(raw, list):
        raise AppError(ErrorCode.INVALID, "Variants must be a list.")
    if len(raw) > MAX_VARIANTS:
        raise AppError(ErrorCode.INVALID, f"A step has at most {MAX_VARIANTS} variants.")
    cleaned: list[dict[str, str]] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise AppError(ErrorCode.INVALID, f"Variant {index} must be an object.")
        key = str(item.get("key", "")).strip()
        if not KEY_PATTERN.match(key):
            raise AppError(
                ErrorCode.INVALID,
                f"Variant {index}: the key must be 1 to 40 letters, digits, - or _.",
            )
        if key in {v["key"] for v in cleaned}:
            raise AppError(ErrorCode.INVALID, f"Variant key {key!r} is used twice.")
        label = str(item.get("label") or key).strip()[:80]
        instructions = item.get("instructions", "")
        if not isinstance(instructions, str) or len(instructions) > 2000:
            raise AppError(
                ErrorCode.INVALID, f"Variant {key}: instructions must be text (2,000 at most)."
            )
        cleaned.append({"key": key, "label": label, "instructions": instructions.strip()})
    return cleaned


def step_variants_set(*, step: SequenceStep, variants: Any) -> SequenceStep:
    step.variants = variants_clean(variants)
    step.save(update_fields=["variants", "updated_at"])
    return step


# -- statistics --------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    sends: int = 0
    replies: int = 0
    positives: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.sends + other.sends,
            self.replies + other.replies,
            self.positives + other.positives,
        )


def sent_messages(*, campaign: Campaign) -> QuerySet[Message]:
    """The campaign's sent sequence messages, each marked `replied` (a person answered
    it) and `credited` (a positive outcome is counted for it; see the module docstring)."""
    workspace = campaign.workspace
    human = Reply.objects.for_workspace(workspace).filter(is_auto_reply=False, is_bounce=False)
    later = Message.objects.for_workspace(workspace).filter(
        enrollment=OuterRef("enrollment"), sent_at__gt=OuterRef("sent_at")
    )
    won = Outcome.objects.for_workspace(workspace).filter(
        lead=OuterRef("enrollment__lead"), kind__in=POSITIVE, occurred_at__gte=OuterRef("sent_at")
    )
    return (
        Message.objects.for_workspace(workspace)
        .filter(
            enrollment__campaign=campaign,
            kind=Message.Kind.SEQUENCE,
            status=Message.Status.SENT,
            sent_at__isnull=False,
        )
        .annotate(
            replied=Exists(human.filter(message=OuterRef("pk"))),
            thread_replied=Exists(human.filter(message__enrollment=OuterRef("enrollment"))),
            is_last=~Exists(later),
            won=Exists(won),
        )
        .annotate(
            credited=ExpressionWrapper(
                Q(won=True) & (Q(replied=True) | Q(thread_replied=False, is_last=True)),
                output_field=BooleanField(),
            )
        )
    )


def _counted(rows: QuerySet[Message], *group: str) -> Iterable[dict[str, Any]]:
    return rows.values(*group).annotate(
        sends=Count("pk"),
        replies=Count("pk", filter=Q(replied=True)),
        positives=Count("pk", filter=Q(credited=True)),
    )


def campaign_counts(
    *, campaign: Campaign
) -> tuple[dict[tuple[Any, str], Counts], dict[str, Counts]]:
    """Counts by (step id, variant key) and by angle kind, from one grouped query: a draft
    needs both, and each costs more to build than to run. The variant key is "" for
    drafts of a step without variants."""
    rows = _counted(
        sent_messages(campaign=campaign).annotate(angle_kind=KT("angle__kind")),
        "step_id",
        "variant",
        "angle_kind",
    )
    by_variant: dict[tuple[Any, str], Counts] = {}
    by_angle: dict[str, Counts] = {}
    for row in rows:
        counts = Counts(row["sends"], row["replies"], row["positives"])
        variant, angle = (row["step_id"], row["variant"]), row["angle_kind"] or ""
        by_variant[variant] = by_variant.get(variant, Counts()) + counts
        by_angle[angle] = by_angle.get(angle, Counts()) + counts
    return by_variant, by_angle


def positive_interval(positives: int, sends: int) -> tuple[float, float] | None:
    """The 95% Wilson score interval of the positive rate; None before any send."""
    if sends <= 0:
        return None
    ci = binomtest(positives, sends).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


# -- the bandit --------------------------------------------------------------------------


def thompson_draws(arms: Mapping[str, Counts], *, rng: np.random.Generator) -> dict[str, float]:
    """One draw per arm from Beta(prior + positives, prior + other sends), the prior
    centred on the arms' pooled rate."""
    keys = list(arms)
    if not keys:
        return {}
    sends = np.array([arms[k].sends for k in keys], dtype=float)
    wins = np.array([arms[k].positives for k in keys], dtype=float)
    pooled = (wins.sum() + 1) / (sends.sum() + 2)
    draws = rng.beta(PRIOR_STRENGTH * pooled + wins, PRIOR_STRENGTH * (1 - pooled) + sends - wins)
    return dict(zip(keys, draws.tolist(), strict=True))


def variant_choose(
    *, variants: list[Variant], counts: Mapping[str, Counts], rng: np.random.Generator
) -> Variant | None:
    """The variant with the highest draw; None when the step has no variants."""
    if not variants:
        return None
    draws = thompson_draws({v.key: counts.get(v.key, Counts()) for v in variants}, rng=rng)
    return max(variants, key=lambda v: draws[v.key])


def angle_bias(*, counts: Mapping[str, Counts], rng: np.random.Generator) -> dict[str, float]:
    """A weight per angle kind for `angle_pick`: its draw over the pooled mean, so 1.0 is
    "average". Empty while the campaign has sent nothing: the fixed choice stands."""
    if not any(c.sends for c in counts.values()):
        return {}
    arms = {kind: counts.get(kind, Counts()) for kind in (*ANGLE_KINDS, *counts)}
    sends = sum(c.sends for c in arms.values())
    pooled = (sum(c.positives for c in arms.values()) + 1) / (sends + 2)
    return {kind: draw / pooled for kind, draw in thompson_draws(arms, rng=rng).items()}


@dataclass(frozen=True)
class DraftPlan:
    """What the bandit decided for one draft."""

    variant: Variant | None
    angle_bias: dict[str, float]

    def step(self, brief: StepBrief) -> StepBrief:
        if self.variant is None or not self.variant.instructions:
            return brief
        return replace(brief, instructions=self.variant.instructions)


# The bandit's counts change with sends, replies and outcomes, hours apart; its draws are
# random anyway. So a worker reads them at most once a minute per campaign, rather than
# for each of a campaign's hundreds of drafts (the grouped query costs some 8 ms of CPU
# to build and read; the rest of a draft's own work in the worker is about 55).
COUNTS_FRESH_SECONDS = 60


def _counts_recent(
    campaign: Campaign,
) -> tuple[dict[tuple[Any, str], Counts], dict[str, Counts]]:
    return cache.get_or_set(  # type: ignore[return-value]
        f"outreach.variants.counts:{campaign.pk}",
        lambda: campaign_counts(campaign=campaign),
        COUNTS_FRESH_SECONDS,
    )


def draft_plan(*, message: Message, rng: np.random.Generator | None = None) -> DraftPlan:
    """Choose the variant and the angle weights for a message about to be drafted, and
    record the variant on it (only while it is still drafting: a message taken back by
    the sweeper is another worker's to record)."""
    rng = rng or _rng
    by_step, by_angle = _counts_recent(message.enrollment.campaign)
    counts = {key: c for (step_id, key), c in by_step.items() if step_id == message.step_id}
    variant = variant_choose(variants=step_variants(message.step), counts=counts, rng=rng)
    key = variant.key if variant else ""
    if key != message.variant:
        Message.objects.for_workspace(message.workspace).filter(
            pk=message.pk, status=Message.Status.DRAFTING
        ).update(variant=key)
        message.variant = key
    return DraftPlan(variant, angle_bias(counts=by_angle, rng=rng))


# -- the A/B report ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArmReport:
    name: str  # in words, for the page
    key: str  # the variant key or the angle kind
    step_order: int | None
    sends: int
    replies: int
    positives: int
    positive_rate: float | None
    interval_low: float | None
    interval_high: float | None

    @property
    def rate_text(self) -> str:
        return "—" if self.positive_rate is None else _percent(self.positive_rate)

    @property
    def interval_text(self) -> str:
        if self.interval_low is None or self.interval_high is None:
            return "—"
        return f"{_percent(self.interval_low)} to {_percent(self.interval_high)}"


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


@dataclass(frozen=True)
class ABReport:
    variants: list[ArmReport]
    angles: list[ArmReport]


def campaign_ab_report(*, campaign: Campaign) -> ABReport:
    """Per step variant and per angle kind: sends, replies, positive replies, and the
    positive rate with its 95% interval. Variants that have not been sent yet are listed
    with zeros, so a new test shows up before its first send."""
    by_step, by_angle = campaign_counts(campaign=campaign)
    variant_rows = []
    for step in campaign.steps.order_by("order"):
        named = {v.key: v.label for v in step_variants(step)}
        # A step without variants has one row; keys no longer defined keep theirs.
        keys = list(named) or [""]
        keys += sorted(k for (s, k) in by_step if s == step.pk and k not in keys)
        for key in keys:
            label = named.get(key) or (key if key else "Single version")
            name = f"Step {step.order}: {label}"
            variant_rows.append(_arm(name, key, step.order, by_step.get((step.pk, key), Counts())))
    angle_rows = [
        _arm(ANGLE_NAMES.get(kind, kind.replace("_", " ").capitalize() or "Unknown"), kind, None, c)
        for kind, c in sorted(by_angle.items(), key=lambda kc: -kc[1].sends)
    ]
    return ABReport(variants=variant_rows, angles=angle_rows)


def _arm(name: str, key: str, step_order: int | None, counts: Counts) -> ArmReport:
    interval = positive_interval(counts.positives, counts.sends)
    return ArmReport(
        name=name,
        key=key,
        step_order=step_order,
        sends=counts.sends,
        replies=counts.replies,
        positives=counts.positives,
        positive_rate=counts.positives / counts.sends if counts.sends else None,
        interval_low=interval[0] if interval else None,
        interval_high=interval[1] if interval else None,
    )


ANGLE_NAMES = {
    "funding": "Funding round",
    "hiring": "Hiring push",
    "product_launch": "Product launch",
    "leadership_change": "New leadership",
    "tech_adoption": "New technology",
    "news": "In the news",
    "tech": "Tools they use",
    "open_roles_count": "Open roles",
    "description": "What the company does",
    "industry": "Their industry",
    "role_fit": "Fit with their role",
}
