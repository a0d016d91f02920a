"""What drafting works from: plain data about the lead, the campaign and the step.

Drafting never reads the database itself, so the same code drafts for a stored
enrollment and for the `draft_email` command's JSON files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class FactRef:
    """A stored fact an email may cite, by its id."""

    id: str
    field: str
    value: object
    source_url: str = ""
    evidence: str = ""
    observed_on: date | None = None
    happened_on: date | None = None  # for signals: when the event happened
    confidence: float = 0.5

    @property
    def text(self) -> str:
        if isinstance(self.value, dict):
            return str(self.value.get("title") or self.value.get("url") or self.value)
        return str(self.value)


@dataclass(frozen=True)
class LeadBrief:
    first_name: str
    last_name: str = ""
    title: str = ""
    seniority: str = ""
    department: str = ""
    company_name: str = ""
    company_domain: str = ""
    facts: tuple[FactRef, ...] = ()

    def fact(self, fact_id: str) -> FactRef | None:
        return next((f for f in self.facts if f.id == fact_id), None)


@dataclass(frozen=True)
class CampaignBrief:
    product: str
    call_to_action: str
    value_propositions: tuple[str, ...] = ()
    proof_points: tuple[str, ...] = ()
    case_studies: tuple[dict, ...] = ()
    tone: str = "friendly, direct, no hype"
    style_guide: str = ""
    example_emails: tuple[dict, ...] = ()
    language: str = "en"
    allowed_links: tuple[str, ...] = ()
    sender_name: str = ""
    sender_title: str = ""
    sender_company: str = ""
    max_words_first_touch: int = 120
    max_words_follow_up: int = 80
    competitors: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreviousEmail:
    subject: str
    body: str


@dataclass(frozen=True)
class StepBrief:
    kind: str = "first_touch"  # first_touch | follow_up | break_up
    order: int = 1
    instructions: str = ""
    previous: tuple[PreviousEmail, ...] = ()

    def max_words(self, campaign: CampaignBrief) -> int:
        if self.kind == "first_touch":
            return campaign.max_words_first_touch
        return campaign.max_words_follow_up


@dataclass(frozen=True)
class Angle:
    kind: str  # signal kind, a fact field, or "role_fit"
    summary: str
    fact_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "summary": self.summary, "fact": self.fact_id}


@dataclass
class Draft:
    subject: str
    body: str
    citations: list[str]
    angle: Angle
    drafter: str  # "llm" | "offline"
    model: str = ""
    prompt_version: str = ""
    claims: list[dict] = field(default_factory=list)  # [{text, fact_ids}] from the drafter


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}
