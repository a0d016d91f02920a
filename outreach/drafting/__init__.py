from outreach.drafting.briefs import (
    Angle,
    CampaignBrief,
    Check,
    Draft,
    FactRef,
    LeadBrief,
    PreviousEmail,
    StepBrief,
)
from outreach.drafting.pipeline import DraftOutcome, draft_produce

__all__ = [
    "Angle",
    "CampaignBrief",
    "Check",
    "Draft",
    "DraftOutcome",
    "FactRef",
    "LeadBrief",
    "PreviousEmail",
    "StepBrief",
    "draft_produce",
]
