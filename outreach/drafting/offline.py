"""The offline drafter: composes an email from the same facts and offer, without a model.

Used when no LLM endpoint is configured (the demo, and customers who prefer it). It
writes like a careful SDR: a short subject from the angle, an opener that fits the kind
of signal and speaks to the reader, one value line in the campaign's own words, the
campaign's ask, the signature. Wording varies from lead to lead (chosen by a stable hash
of the lead, so a redraft is the same text), so a campaign's emails do not read as one
template. Every message it writes says in its metadata that no model wrote it.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

from outreach.drafting.briefs import Angle, CampaignBrief, Draft, FactRef, LeadBrief, StepBrief

PROMPT_VERSION = "offline-2"
MAX_SUBJECT_WORDS = 5
# Value propositions that start with a state ("Live in six weeks") read after "teams are".
_STATE_WORDS = frozenset({"live", "ready", "up", "running", "compliant", "done", "set"})


def offline_draft(
    *, lead: LeadBrief, campaign: CampaignBrief, step: StepBrief, angle: Angle
) -> Draft:
    fact = lead.fact(angle.fact_id) if angle.fact_id else None
    pick = _Picker(f"{lead.first_name}|{lead.last_name}|{lead.company_name}")
    opener = _opener(angle, fact, lead, pick)
    if step.kind == "first_touch":
        subject = _subject(angle, fact, lead, campaign, pick)
        paragraphs = [opener, f"{_value_line(campaign, pick)} {campaign.call_to_action}"]
    elif step.kind == "break_up":
        subject = _reply_subject(step)
        paragraphs = [
            "I have not heard back, so I will not keep writing.",
            f"If {product_name(campaign)} becomes a priority later, a one-line reply is enough "
            "and I will pick it up from there.",
        ]
    else:
        subject = _reply_subject(step)
        opener, cites_fact = _follow_up_bridge(angle, fact, lead, campaign, pick)
        fact = fact if cites_fact else None
        line = _follow_up_line(step, campaign, lead, pick)
        paragraphs = [opener, f"{line} {campaign.call_to_action}"]
    body = "\n\n".join([f"Hi {lead.first_name or 'there'},", *paragraphs, _signature(campaign)])
    citations = [fact.id] if fact is not None and step.kind != "break_up" else []
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


class _Picker:
    """Chooses among phrasings by a stable hash of the lead: varied, yet repeatable."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, options: Sequence[str], salt: int = 0) -> str:
        # A separate hash per choice: the opener's pick says nothing about the value line's.
        return options[zlib.crc32(f"{salt}|{self.key}".encode()) % len(options)]


def _opener(angle: Angle, fact: FactRef | None, lead: LeadBrief, pick: _Picker) -> str:
    company = lead.company_name or "your team"
    if fact is None:
        # No fact to stand on: say why we write without claiming anything about them.
        role = lead.title or "your role"
        return pick(
            [
                f"I am writing because what we do is usually a fit for someone in {role}.",
                f"I am reaching out because people in {role} are usually the ones who feel "
                "this problem first.",
            ]
        )
    details = fact.value if isinstance(fact.value, dict) else {}
    match angle.kind:
        case "funding":
            round_name = details.get("round") or "funding round"
            return pick(
                [
                    f"Congratulations on the {round_name} at {company}.",
                    f"Congratulations to you and the team on the {round_name}.",
                    f"I saw the news of the {round_name} at {company}; congratulations.",
                ]
            )
        case "hiring":
            return _hiring_line(company, details, pick)
        case "product_launch":
            return pick(
                [
                    f"Congratulations on the recent launch at {company}.",
                    f"I saw the launch news from {company}.",
                ]
            )
        case "leadership_change":
            return pick(
                [
                    f"I saw the recent leadership news at {company}.",
                    f"I read about the leadership change at {company}.",
                ]
            )
        case "tech":
            return pick(
                [f"I noticed {company} runs {fact.text}.", f"I saw {company} uses {fact.text}."]
            )
        case "open_roles_count":
            return f"I noticed {company} has {fact.text} open roles right now."
        case "industry":
            return f"I work with a number of {_lower_first(fact.text.rstrip('.'))} teams, so " + (
                f"{company} stood out."
            )
        case _:
            return _about_line(company, fact.text.strip().rstrip("."), pick)


def _hiring_line(company: str, details: dict, pick: _Picker) -> str:
    roles = details.get("roles")
    sales = details.get("sales_roles") or []
    if not isinstance(roles, int):
        return pick([f"I saw {company} is hiring.", f"I noticed the open roles at {company}."])
    plural = "s" if roles != 1 else ""
    line = pick(
        [
            f"I saw {company} is hiring for {roles} role{plural}",
            f"I noticed {company} has {roles} role{plural} open",
        ]
    )
    if sales:
        line += f", {len(sales)} of them in sales"
    return line + "."


def _about_line(company: str, text: str, pick: _Picker) -> str:
    # Descriptions come as "Acme builds ...", "builds ..." or a tagline; each reads
    # naturally in a different frame. A bare label ("Wholesale") is not worth quoting.
    if text.lower().startswith(company.lower()):
        return f"I read that {text}."
    if text[:1].islower():
        return pick([f"I read that {company} {text}.", f"I see {company} {text}."])
    if len(text.split()) < 4:
        return f"I came across {company} while looking at teams like yours."
    return f'I was reading about {company}, and one line stood out: "{text}".'


def _subject(
    angle: Angle, fact: FactRef | None, lead: LeadBrief, campaign: CampaignBrief, pick: _Picker
) -> str:
    company = _short(lead.company_name or lead.company_domain or "your team", 3)
    details = fact.value if fact is not None and isinstance(fact.value, dict) else {}
    name = product_name(campaign)
    if fact is None:
        options = [f"{name} for {company}", f"Idea for {company}"]
    elif angle.kind == "funding":
        options = [f"After the {details.get('round') or 'raise'}", "Next steps after the raise"]
    elif angle.kind in {"hiring", "open_roles_count"}:
        options = [f"Hiring at {company}", f"{company} is growing"]
    elif angle.kind == "product_launch":
        options = [f"The launch at {company}", "After the launch"]
    elif angle.kind == "tech":
        options = [f"{_short(fact.text, 3)} at {company}", f"{name} and {_short(fact.text, 2)}"]
    else:
        options = [f"{name} for {company}", f"Idea for {company}", f"{company} and {name}"]
    subject = pick([o for o in options if 2 <= len(o.split()) <= MAX_SUBJECT_WORDS] or options)
    return _upper_first(subject)[:80]


def _value_line(campaign: CampaignBrief, pick: _Picker) -> str:
    """One value proposition and one proof point, in the campaign's own words."""
    name = product_name(campaign)
    parts = []
    if campaign.value_propositions:
        parts.append(_value_sentence(name, pick(campaign.value_propositions, salt=1)))
    else:
        parts.append(f"We make {_lower_first(campaign.product.rstrip('.'))}.")
    if campaign.proof_points and pick(["proof", "proof", "none"], salt=2) == "proof":
        proof = campaign.proof_points[0].strip().rstrip(".")
        if re.match(r"(?i)(used|trusted|deployed|chosen|run)\b", proof):
            parts.append(f"It is {_lower_first(proof)}.")
        else:
            parts.append(f"{_upper_first(proof)}.")
    return " ".join(parts)


def _value_sentence(name: str, value: str) -> str:
    """A value proposition as a sentence: "Cuts picking labour by 30%" reads as what the
    product does, "Live in six weeks" as what teams are; anything else stands alone."""
    value = value.strip().rstrip(".")
    first = value.split()[0].lower() if value.split() else ""
    if first.endswith("s") and not first.endswith("ss"):
        return f"{name} {_lower_first(value)}."
    if first in _STATE_WORDS:
        return f"With {name}, teams are {_lower_first(value)}."
    return f"{_upper_first(value)}."


def _follow_up_bridge(
    angle: Angle, fact: FactRef | None, lead: LeadBrief, campaign: CampaignBrief, pick: _Picker
) -> tuple[str, bool]:
    """Which note this follows, and whether it names the angle's fact (then it cites it):
    the first touch's own topic, so follow-ups to different leads differ as their first
    touches do (one line shared by every lead's follow-up made them near-copies of each
    other, held by the check)."""
    company = lead.company_name or "your team"
    details = fact.value if fact is not None and isinstance(fact.value, dict) else {}
    topics = {
        "funding": f"the {details.get('round') or 'funding round'} at {company}",
        "hiring": f"the hiring at {company}",
        "open_roles_count": f"the open roles at {company}",
        "product_launch": f"the launch at {company}",
        "leadership_change": f"the leadership news at {company}",
        "tech": f"{company} running {fact.text}" if fact is not None else "",
    }
    topic = topics.get(angle.kind, "") if fact is not None else ""
    cites_fact = bool(topic)
    if not topic:
        return "A short follow-up to my last note.", False
    line = pick(
        [
            f"Following up on my last note, with {topic} in mind.",
            f"A short follow-up, given {topic}.",
            f"One more thought after my last note, given {topic}.",
        ],
        salt=3,
    )
    return line, cites_fact


def _follow_up_line(
    step: StepBrief, campaign: CampaignBrief, lead: LeadBrief, pick: _Picker
) -> str:
    # A follow-up adds something new: the next value proposition or proof point, said to
    # the lead's role.
    index = max(1, step.order - 1)
    extras = [
        *campaign.value_propositions[1:],
        *campaign.proof_points[1:],
        *[c.get("summary", "") for c in campaign.case_studies],
    ]
    extras = [e for e in extras if e]
    if not extras:
        return f"Happy to show how {product_name(campaign)} works in practice."
    extra = _lower_first(_value_sentence(product_name(campaign), extras[(index - 1) % len(extras)]))
    lead_in = pick(["One more thing worth knowing", "Something I left out", "One detail"], salt=4)
    if lead.title:
        return f"{lead_in} for someone in your role as {lead.title}: {extra}"
    return f"{lead_in}: {extra}"


def _reply_subject(step: StepBrief) -> str:
    first = step.previous[0].subject if step.previous else ""
    return f"Re: {first}"[:300] if first else ""


def product_name(campaign: CampaignBrief) -> str:
    """The product's name as the campaign writes it: "Pickwell" from "Pickwell, carts
    that...", else the seller's company, else the first words of the product."""
    head = re.split(r"[,:;(–—-]\s", campaign.product, maxsplit=1)[0].strip()
    if head and len(head.split()) <= 3:
        return head
    return campaign.sender_company or _short(campaign.product, 3) or "this"


def _short(text: str, words: int) -> str:
    return " ".join(text.split()[:words]).rstrip(".,;:")


def _signature(campaign: CampaignBrief) -> str:
    lines = [campaign.sender_name]
    if campaign.sender_title or campaign.sender_company:
        lines.append(", ".join(p for p in [campaign.sender_title, campaign.sender_company] if p))
    return "\n".join(line for line in lines if line) or "Best"


def _lower_first(text: str) -> str:
    # Only a capital that starts a sentence is lowered: "IT", "SAP" and names stay.
    first = text.split()[0] if text.split() else ""
    if not first or first.isupper() or any(ch.isupper() for ch in first[1:]):
        return text
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    # Never str.capitalize(): it lowers the rest ("Shiphero wms").
    return text[:1].upper() + text[1:]
