"""The offline drafter: composes an email from the same facts and offer, without a model.

Used when no LLM endpoint is configured (the demo, and customers who prefer it). It is
deliberately plain: one opener built from the angle's fact (its only personal claim,
cited), one value proposition with proof, the campaign's ask, the signature. Every
message it writes says in its metadata that no model wrote it.
"""

from __future__ import annotations

from outreach.drafting.briefs import Angle, CampaignBrief, Draft, FactRef, LeadBrief, StepBrief

PROMPT_VERSION = "offline-1"


def offline_draft(
    *, lead: LeadBrief, campaign: CampaignBrief, step: StepBrief, angle: Angle
) -> Draft:
    fact = lead.fact(angle.fact_id) if angle.fact_id else None
    opener = _opener(angle, fact, lead)
    if step.kind == "first_touch":
        subject = _subject(angle, fact, lead, campaign)
        paragraphs = [opener, _bridge(campaign, step), campaign.call_to_action]
    elif step.kind == "break_up":
        subject = _reply_subject(step)
        paragraphs = [
            "I have not heard back, so I will not keep writing.",
            f"If {_short_product(campaign)} becomes a priority later, a one-line reply is enough "
            "and I will pick it up from there.",
        ]
    else:
        subject = _reply_subject(step)
        paragraphs = [_follow_up_line(step, campaign), campaign.call_to_action]
    body = "\n\n".join([f"Hi {lead.first_name or 'there'},", *paragraphs, _signature(campaign)])
    citations = [fact.id] if fact is not None and step.kind == "first_touch" else []
    claims = [{"text": opener, "fact_ids": citations}] if citations else []
    return Draft(
        subject=subject,
        body=body,
        citations=citations,
        angle=angle,
        drafter="offline",
        model="",
        prompt_version=PROMPT_VERSION,
        claims=claims,
    )


def _opener(angle: Angle, fact: FactRef | None, lead: LeadBrief) -> str:
    company = lead.company_name or "your team"
    if fact is None:
        # No fact to stand on: say why we write without claiming anything about them.
        return "I am writing because what we do is usually a fit for someone in your role."
    details = fact.value if isinstance(fact.value, dict) else {}
    match angle.kind:
        case "funding":
            round_name = details.get("round") or "funding round"
            return f"Congratulations on the {round_name} at {company}."
        case "hiring":
            return _hiring_line(company, details, fact)
        case "product_launch":
            return f"I read about the launch at {company}: {fact.text.rstrip('.')}."
        case "leadership_change":
            return f"I saw the news at {company}: {fact.text.rstrip('.')}."
        case "tech":
            return f"I noticed {company} runs {fact.text}."
        case "open_roles_count":
            return f"I noticed {company} has {fact.text} open roles right now."
        case _:
            return _about_line(company, fact.text.strip().rstrip("."))


def _hiring_line(company: str, details: dict, fact: FactRef) -> str:
    roles = details.get("roles")
    sales = details.get("sales_roles") or []
    if not isinstance(roles, int):
        return f"I saw {company} is hiring: {fact.text.rstrip('.')}."
    line = f"I saw {company} is hiring for {roles} role{'s' if roles != 1 else ''}"
    if sales:
        line += f", {len(sales)} of them in sales"
    return line + "."


def _about_line(company: str, text: str) -> str:
    # Descriptions come as "Acme builds ...", "builds ..." or a tagline; each reads
    # naturally in a different frame.
    if text.lower().startswith(company.lower()):
        return f"I read that {text}."
    if text[:1].islower():
        return f"I read that {company} {text}."
    return f"I was reading about {company}: {text}."


def _subject(angle: Angle, fact: FactRef | None, lead: LeadBrief, campaign: CampaignBrief) -> str:
    company = lead.company_name or lead.company_domain or "your team"
    if fact is not None and angle.kind == "funding":
        details = fact.value if isinstance(fact.value, dict) else {}
        return f"After the {details.get('round') or 'raise'}"[:80]
    if fact is not None and angle.kind == "hiring":
        return f"Hiring at {company}"[:80]
    return f"{_short_product(campaign).capitalize()} at {company}"[:80]


def _bridge(campaign: CampaignBrief, step: StepBrief) -> str:
    parts = []
    if campaign.value_propositions:
        who = f"{campaign.sender_company} helps" if campaign.sender_company else "We help"
        value = _lower_first(campaign.value_propositions[0].rstrip("."))
        parts.append(f"{who} teams like yours: {value}.")
    else:
        parts.append(f"We offer {_lower_first(campaign.product.rstrip('.'))}.")
    if campaign.proof_points:
        parts.append(campaign.proof_points[0].rstrip(".") + ".")
    return " ".join(parts)


def _follow_up_line(step: StepBrief, campaign: CampaignBrief) -> str:
    # A follow-up adds something new: the next value proposition or proof point.
    index = max(1, step.order - 1)
    extras = [
        *campaign.value_propositions[1:],
        *campaign.proof_points[1:],
        *[c.get("summary", "") for c in campaign.case_studies],
    ]
    extras = [e for e in extras if e]
    if extras:
        extra = extras[(index - 1) % len(extras)].rstrip(".")
        return f"One more thing worth knowing: {_lower_first(extra)}."
    return f"Following up on my note about {_short_product(campaign)}."


def _reply_subject(step: StepBrief) -> str:
    first = step.previous[0].subject if step.previous else ""
    return f"Re: {first}"[:300] if first else ""


def _short_product(campaign: CampaignBrief) -> str:
    words = campaign.product.split()
    return " ".join(words[:6]).rstrip(".,") if words else "this"


def _signature(campaign: CampaignBrief) -> str:
    lines = [campaign.sender_name]
    if campaign.sender_title or campaign.sender_company:
        lines.append(", ".join(p for p in [campaign.sender_title, campaign.sender_company] if p))
    return "\n".join(line for line in lines if line) or "Best"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text[:2].isupper() else text
