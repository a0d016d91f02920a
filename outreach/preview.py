"""What a campaign's step would say to a sample lead, drafted now and kept nowhere: the
sequence editor's preview. The same drafting and checks as a real draft (the model when
one is set, else the offline drafter), so what a seller reads here is what review will
get; nothing is stored but the model call's cost, as for every call."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from leads.models import Lead
from outreach import enrollment
from outreach.briefs_from_db import campaign_brief, lead_brief
from outreach.drafting.briefs import PreviousEmail, StepBrief
from outreach.drafting.pipeline import DraftOutcome, DraftRetryLater, draft_produce
from outreach.models import Campaign, Enrollment, SequenceStep

SAMPLE_LEADS = 10


@dataclass(frozen=True)
class Preview:
    step: SequenceStep
    lead: Lead
    outcome: DraftOutcome | None
    # Why there is no draft, in plain words (the model busy, the lead without facts).
    problem: str = ""


def sample_leads(*, campaign: Campaign) -> list[Lead]:
    """Leads to preview with: the campaign's own first, then the best it could enroll."""
    enrolled: QuerySet[Lead] = Lead.objects.for_workspace(campaign.workspace).filter(
        pk__in=Enrollment.objects.for_workspace(campaign.workspace)
        .filter(campaign=campaign)
        .values("lead_id")
    )
    leads = list(enrolled.select_related("company").order_by("-created_at")[:SAMPLE_LEADS])
    if len(leads) < SAMPLE_LEADS:
        best = enrollment.eligible_leads(campaign=campaign).select_related("company")
        leads += list(best[: SAMPLE_LEADS - len(leads)])
    return leads


def step_preview(*, campaign: Campaign, step: SequenceStep, lead: Lead) -> Preview:
    """Draft `step` for `lead`; a follow-up is drafted after the steps before it, whose
    drafts stand for the thread it follows."""
    brief, about = campaign_brief(campaign), lead_brief(lead)
    previous: list[PreviousEmail] = []
    outcome: DraftOutcome | None = None
    for earlier in campaign.steps.filter(order__lte=step.order).order_by("order"):
        try:
            outcome = draft_produce(
                workspace=campaign.workspace,
                lead=about,
                campaign=brief,
                step=StepBrief(
                    kind=earlier.kind,
                    order=earlier.order,
                    instructions=earlier.instructions,
                    previous=tuple(previous),
                ),
                subject_id=f"preview:{campaign.pk}:{earlier.order}",
            )
        except DraftRetryLater:
            return Preview(step, lead, None, "The model is busy or did not answer; try again.")
        if outcome.draft is None:
            return Preview(step, lead, outcome, outcome.reason or "No draft could be written.")
        previous.append(PreviousEmail(subject=outcome.draft.subject, body=outcome.draft.body))
    return Preview(step, lead, outcome)
