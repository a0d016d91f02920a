"""Build drafting briefs from stored rows: only what the email may use."""

from __future__ import annotations

from datetime import date

from leads.models import Fact, Lead
from outreach.drafting import CampaignBrief, FactRef, LeadBrief, PreviousEmail, StepBrief
from outreach.models import Campaign, Message, SequenceStep

# The prompt gets the facts an email could stand on, not everything we know.
MAX_FACTS = 12
PROMPT_FIELDS = (
    "signal.funding",
    "signal.hiring",
    "signal.product_launch",
    "signal.leadership_change",
    "signal.tech_adoption",
    "signal.news",
    "description",
    "industry",
    "tech",
    "open_roles_count",
    "open_role",
    "location",
    "employee_count",
    "title",
    "founded",
)


def lead_brief(lead: Lead) -> LeadBrief:
    company = lead.company
    facts = Fact.objects.for_workspace(lead.workspace).filter(field__in=PROMPT_FIELDS)
    if company is not None:
        facts = facts.filter(company=company, lead__isnull=True) | facts.filter(lead=lead)
    else:
        facts = facts.filter(lead=lead)
    chosen: dict[tuple[str, str], FactRef] = {}
    rank = {name: i for i, name in enumerate(PROMPT_FIELDS)}
    for fact in sorted(
        facts, key=lambda f: (rank[f.field], -f.confidence, -f.observed_at.timestamp())
    ):
        key = (fact.field, str(fact.value).lower())
        if key not in chosen and len(chosen) < MAX_FACTS:
            chosen[key] = fact_ref(fact)
    return LeadBrief(
        first_name=lead.first_name,
        last_name=lead.last_name,
        title=lead.title,
        seniority=lead.seniority,
        department=lead.department,
        company_name=(company.name or company.domain) if company else "",
        company_domain=company.domain if company else "",
        facts=tuple(chosen.values()),
    )


def fact_ref(fact: Fact) -> FactRef:
    happened = None
    if isinstance(fact.value, dict) and fact.value.get("date"):
        try:
            happened = date.fromisoformat(str(fact.value["date"]))
        except ValueError:
            happened = None
    return FactRef(
        id=str(fact.pk),
        field=fact.field,
        value=fact.value,
        source_url=fact.source_url,
        evidence=fact.evidence,
        observed_on=fact.observed_at.date(),
        happened_on=happened,
        confidence=fact.confidence,
    )


def campaign_brief(campaign: Campaign) -> CampaignBrief:
    return CampaignBrief(
        product=campaign.product,
        call_to_action=campaign.call_to_action,
        value_propositions=tuple(campaign.value_propositions),
        proof_points=tuple(campaign.proof_points),
        case_studies=tuple(campaign.case_studies),
        tone=campaign.tone,
        style_guide=campaign.style_guide,
        example_emails=tuple(campaign.example_emails),
        language=campaign.language,
        allowed_links=tuple(campaign.allowed_links),
        sender_name=campaign.sender_name,
        sender_title=campaign.sender_title,
        sender_company=campaign.sender_company,
        max_words_first_touch=campaign.max_words_first_touch,
        max_words_follow_up=campaign.max_words_follow_up,
        competitors=tuple(campaign.competitors),
    )


def step_brief(step: SequenceStep, message: Message) -> StepBrief:
    earlier = (
        Message.objects.for_workspace(message.workspace)
        .filter(enrollment=message.enrollment, step__order__lt=step.order)
        .exclude(status__in=[Message.Status.REJECTED, Message.Status.FAILED])
        .order_by("step__order")
    )
    return StepBrief(
        kind=step.kind,
        order=step.order,
        instructions=step.instructions,
        previous=tuple(PreviousEmail(subject=m.subject, body=m.body) for m in earlier),
    )
