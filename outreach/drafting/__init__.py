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
from outreach.drafting.pipeline import DraftOutcome, DraftRetryLater, draft_produce

__all__ = [
    "Angle",
    "CampaignBrief",
    "Check",
    "Draft",
    "DraftOutcome",
    "DraftRetryLater",
    "FactRef",
    "LeadBrief",
    "PreviousEmail",
    "StepBrief",
    "draft_produce",
]
