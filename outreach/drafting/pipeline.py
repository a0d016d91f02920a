"""Drafting, end to end for one email: angle, draft, verify, redraft once, then decide.

Pure: takes briefs, returns an outcome. The model is reached only through sdr.llm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from outreach.drafting import prompts
from outreach.drafting.angles import angle_pick
from outreach.drafting.briefs import Angle, CampaignBrief, Check, Draft, LeadBrief, StepBrief
from outreach.drafting.offline import offline_draft
from outreach.drafting.safety import usable_facts
from outreach.drafting.verify import draft_verify
from sdr.llm import (
    LLMError,
    LLMErrorReason,
    Purpose,
    llm_configured,
    structured_completion,
    untrusted_block,
)
from sdr.models import Workspace

READY, HELD, FAILED = "ready", "held", "failed"
# Errors that say "not now" rather than "not this": the task tries again later.
TRANSIENT = frozenset(
    {
        LLMErrorReason.RATE_LIMITED,
        LLMErrorReason.TIMEOUT,
        LLMErrorReason.SERVER_ERROR,
        LLMErrorReason.CONNECTION_ERROR,
    }
)


class DraftRetryLater(Exception):
    """The model is busy or down: leave the message drafting and try again later."""

    def __init__(self, error: LLMError) -> None:
        super().__init__(f"{error.reason}: {error}")
        self.error = error


@dataclass
class DraftOutcome:
    status: str  # ready | held | failed
    draft: Draft | None
    checks: list[Check] = field(default_factory=list)
    attempts: int = 0
    reason: str = ""

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def draft_produce(
    *,
    workspace: Workspace,
    lead: LeadBrief,
    campaign: CampaignBrief,
    step: StepBrief,
    other_bodies: Iterable[str] = (),
    today: date | None = None,
    subject_id: str = "",
    avoid_angles: frozenset[str] = frozenset(),
    angle_bias: dict[str, float] | None = None,
) -> DraftOutcome:
    # Facts that read like instructions never reach the prompt, the angle or the email.
    lead = replace(_usable_names(lead), facts=usable_facts(lead.facts))
    other_bodies = list(other_bodies)
    angle = angle_pick(
        lead=lead, campaign=campaign, today=today, avoid=avoid_angles, bias=angle_bias
    )
    use_model = llm_configured(workspace=workspace)
    problems: list[str] = []
    outcome = DraftOutcome(status=FAILED, draft=None)
    for attempt in (1, 2):
        try:
            draft = _compose(
                workspace, lead, campaign, step, angle, problems, use_model, subject_id
            )
        except LLMError as error:
            if attempt == 2:
                # The first draft stands, held with its own problems: a failed redraft
                # must not throw away a draft a person can still fix and approve.
                outcome.status = HELD
                outcome.reason = "; ".join([*problems, f"the redraft failed: {error.reason}"])
                return outcome
            if error.reason in TRANSIENT:
                raise DraftRetryLater(error) from error
            return DraftOutcome(
                status=FAILED, draft=None, attempts=attempt, reason=f"{error.reason}: {error}"
            )
        checks = draft_verify(
            draft=draft, lead=lead, campaign=campaign, step=step, other_bodies=other_bodies
        )
        if draft.drafter == "llm":
            checks.append(
                _claims_supported(workspace, draft, lead, subject_id, first_draft=attempt == 1)
            )
        outcome = DraftOutcome(status=READY, draft=draft, checks=checks, attempts=attempt)
        if not outcome.failed_checks:
            return outcome
        problems = [f"{check.name}: {check.detail}" for check in outcome.failed_checks]
        if draft.drafter == "offline":
            break  # the offline drafter is deterministic: a redraft would be the same text
    outcome.status = HELD
    outcome.reason = "; ".join(problems)
    return outcome


def _usable_names(lead: LeadBrief) -> LeadBrief:
    """A name that carries instructions or markup is never used as a name (imports made
    before the edge refused such names may still hold one): the email says "there"."""
    from leads.names import name_problem

    return replace(
        lead,
        first_name="" if name_problem(lead.first_name) else lead.first_name,
        last_name="" if name_problem(lead.last_name) else lead.last_name,
        company_name="" if name_problem(lead.company_name) else lead.company_name,
    )


def _compose(
    workspace: Workspace,
    lead: LeadBrief,
    campaign: CampaignBrief,
    step: StepBrief,
    angle: Angle,
    problems: list[str],
    use_model: bool,
    subject_id: str,
) -> Draft:
    if not use_model:
        return offline_draft(lead=lead, campaign=campaign, step=step, angle=angle)
    return llm_draft(
        workspace=workspace,
        lead=lead,
        campaign=campaign,
        step=step,
        angle=angle,
        problems=problems,
        subject_id=subject_id,
    )


def llm_draft(
    *,
    workspace: Workspace,
    lead: LeadBrief,
    campaign: CampaignBrief,
    step: StepBrief,
    angle: Angle,
    problems: list[str] | None = None,
    subject_id: str = "",
) -> Draft:
    result = structured_completion(
        workspace=workspace,
        purpose=Purpose.DRAFTING,
        prompt_version=prompts.PROMPT_VERSION,
        system=prompts.DRAFT_SYSTEM,
        stable_context=prompts.campaign_context(campaign),
        untrusted_data=untrusted_block("FACTS", prompts.draft_data(lead, step, problems)),
        task=prompts.draft_task(
            lead=lead, campaign=campaign, step=step, angle=angle, problems=problems
        ),
        schema=prompts.DRAFT_SCHEMA,
        schema_name="email_draft",
        validate=_draft_shape_errors,
        subject_type="message",
        subject_id=subject_id,
    )
    data = result.data
    subject = data["subject"].strip()
    if step.kind != "first_touch" and step.previous:
        # Follow-ups stay in the first email's thread whatever the model wrote.
        subject = f"Re: {step.previous[0].subject}"
    return Draft(
        subject=subject,
        body=data["body"].strip(),
        citations=list(dict.fromkeys(data["citations"])),
        angle=angle,
        drafter="llm",
        model=result.model,
        prompt_version=prompts.PROMPT_VERSION,
        claims=data["claims"],
    )


def _draft_shape_errors(data: dict) -> list[str]:
    errors = []
    if not data.get("body", "").strip():
        errors.append("body is empty")
    return errors


def _claims_supported(
    workspace: Workspace, draft: Draft, lead: LeadBrief, subject_id: str, *, first_draft: bool
) -> Check:
    cited = [f for f in lead.facts if f.id in draft.citations]
    try:
        result = structured_completion(
            workspace=workspace,
            purpose=Purpose.CHECKING,
            prompt_version=prompts.CHECK_PROMPT_VERSION,
            system=prompts.CHECK_SYSTEM,
            stable_context="",
            untrusted_data=untrusted_block(
                "FACTS", prompts.lead_data(replace(lead, facts=tuple(cited)))
            )
            + "\n"
            + untrusted_block("EMAIL", {"subject": draft.subject, "body": draft.body}),
            task="List every statement the EMAIL makes about the recipient or their company, "
            "and whether the FACTS support it.",
            schema=prompts.CHECK_SCHEMA,
            schema_name="claim_check",
            subject_type="message",
            subject_id=subject_id,
        )
    except LLMError as error:
        if first_draft and error.reason in TRANSIENT:
            # The checker is busy or down: draft again later rather than hold a draft
            # that a check would likely have passed. After a redraft, the first draft is
            # held as the loop above keeps it.
            raise DraftRetryLater(error) from error
        # Unchecked is not checked: hold the draft rather than let it through.
        return Check("claims_supported", False, f"The claim check could not run: {error}")
    unsupported = [c["text"] for c in result.data["claims"] if not c["supported"]]
    return Check(
        "claims_supported",
        not unsupported,
        f"Not supported by the facts: {unsupported}" if unsupported else "",
    )
