"""Step 1 of drafting: pick the angle, the one thing about this lead worth writing about."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from outreach.drafting.briefs import Angle, CampaignBrief, FactRef, LeadBrief
from outreach.drafting.safety import fact_is_usable

# A recent event is the best reason to write; these weights order them. Hiring comes
# before launches because a hiring push says where the money and pain are right now.
SIGNAL_WEIGHTS = {
    "signal.funding": 1.0,
    "signal.hiring": 0.9,
    "signal.product_launch": 0.8,
    "signal.leadership_change": 0.75,
    "signal.tech_adoption": 0.6,
    "signal.news": 0.5,
}
SIGNAL_FRESH_DAYS = 180
FACT_WEIGHTS = {"tech": 0.45, "open_roles_count": 0.4, "description": 0.3, "industry": 0.2}


def angle_pick(
    *,
    lead: LeadBrief,
    campaign: CampaignBrief,
    today: date | None = None,
    avoid: frozenset[str] = frozenset(),
    bias: Mapping[str, float] | None = None,
) -> Angle:
    """The best angle, skipping facts in `avoid` (the angles of colleagues already written
    to in this campaign) while another usable one is left.

    `bias` multiplies each candidate's score by its angle kind's weight: the campaign's
    bandit (outreach/variants.py) passes Thompson draws relative to its mean reply rate,
    so kinds that earned positive replies win more often and untried ones still get
    picked. Absent or empty (no statistics yet), the choice is the fixed one.
    """
    today = today or date.today()
    bias = bias or {}
    scored = [
        (score * bias.get(angle_kind(fact.field), 1.0), fact)
        for fact in lead.facts
        if (score := _score(fact, campaign, today)) > 0
    ]
    fresh = [(score, fact) for score, fact in scored if fact.id not in avoid]
    scored = fresh or scored
    if scored:
        _, best = max(scored, key=lambda pair: (pair[0], pair[1].confidence))
        return Angle(kind=angle_kind(best.field), summary=best.text[:200], fact_id=best.id)
    role = lead.title or lead.department or "your team"
    return Angle(kind=ROLE_FIT, summary=f"{campaign.product} for {role}"[:200])


def angle_kind(fact_field: str) -> str:
    """The kind an angle on this fact is recorded under (Message.angle["kind"])."""
    return fact_field.removeprefix("signal.")


ROLE_FIT = "role_fit"
# Every kind `angle_pick` can return: the bandit draws a weight for each, tried or not.
ANGLE_KINDS = (
    *(angle_kind(name) for name in SIGNAL_WEIGHTS),
    *FACT_WEIGHTS,
    ROLE_FIT,
)


def _score(fact: FactRef, campaign: CampaignBrief, today: date) -> float:
    if not fact_is_usable(fact):
        return 0.0
    if fact.field in SIGNAL_WEIGHTS:
        when = fact.happened_on or fact.observed_on
        if when is None or today - when > timedelta(days=SIGNAL_FRESH_DAYS):
            return 0.0
        freshness = 1 - (today - when).days / (2 * SIGNAL_FRESH_DAYS)
        return SIGNAL_WEIGHTS[fact.field] * freshness
    weight = FACT_WEIGHTS.get(fact.field, 0.0)
    if fact.field == "tech" and fact.text.lower() not in _offer_text(campaign):
        return weight / 3  # a tool they use matters most when our offer touches it
    return weight * fact.confidence


def _offer_text(campaign: CampaignBrief) -> str:
    return " ".join([campaign.product, *campaign.value_propositions]).lower()
