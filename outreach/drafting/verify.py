"""Step 3 of drafting: checks a draft must pass before anyone may send it.

Code decides what code can: citations, links, contact details, placeholders, length,
spam words, copying. Whether each personal claim is supported by its cited facts needs
reading comprehension; with a model configured a checking call decides that
(`claims_supported_check`), and without one only the offline drafter writes, whose one
claim is built from its cited fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from outreach.drafting.briefs import CampaignBrief, Check, Draft, LeadBrief, StepBrief
from sdr.headers import header_problem

URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>()\"']+")
EMAIL_RE = re.compile(r"(?i)\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE_RE = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{7,}\d\b")
NUMBER_RE = re.compile(r"[$€£]?\d[\d,.]*\s?(?:%|[kKmMbB]\b|million|billion)?")
PLACEHOLDER_RE = re.compile(
    r"\{\{.*?\}\}|\{[a-z_ ]+\}|\[(?:first ?name|name|company|your name|insert[^\]]*|[A-Z_ ]{3,})\]"
    r"|<(?:name|company|first_name)>|\bXXX+\b|\bTODO\b|\bTBD\b|lorem ipsum",
    re.IGNORECASE,
)
# Phrases that make filters and people distrust a cold email.
SPAM_PHRASES = (
    "act now",
    "100% free",
    "risk-free",
    "risk free",
    "guaranteed",
    "no obligation",
    "click here",
    "limited time",
    "urgent",
    "once in a lifetime",
    "winner",
    "cash bonus",
    "double your",
    "earn money",
    "buy now",
    "special promotion",
    "dear friend",
    "100% satisfied",
    "as seen on",
    "miracle",
    "best price",
    "this isn't spam",
)
MAX_SUBJECT_CHARS = 80
NEAR_DUPLICATE = 0.85
FOLLOW_UP_REPEAT = 0.6


def draft_verify(
    *,
    draft: Draft,
    lead: LeadBrief,
    campaign: CampaignBrief,
    step: StepBrief,
    other_bodies: Iterable[str] = (),
) -> list[Check]:
    """Run every code check. The model check, when configured, is added by the pipeline."""
    from leads.extraction import looks_like_instructions

    text = f"{draft.subject}\n{draft.body}"
    checks = [
        _citations_known(draft, lead),
        _claims_cited(draft, lead),
        _numbers_grounded(draft, lead, campaign),
        _only_our_links(text, campaign),
        _only_our_contacts(text, campaign),
        Check(
            "no_injected_instructions",
            not looks_like_instructions(text),
            ""
            if not looks_like_instructions(text)
            else "The draft reads like instructions taken from scraped text.",
        ),
        _no_placeholders(text),
        _length(draft, campaign, step),
        _subject_is_a_header(draft),
        _spam_words(text),
        _one_ask(draft.body),
        _not_near_duplicate(draft.body, other_bodies),
    ]
    if step.kind != "first_touch":
        checks.append(_follow_up_is_new(draft, step))
    return checks


def _citations_known(draft: Draft, lead: LeadBrief) -> Check:
    unknown = [c for c in draft.citations if lead.fact(c) is None]
    return Check(
        "citations_known",
        not unknown,
        f"Cited ids that are not facts of this lead: {unknown}" if unknown else "",
    )


def _claims_cited(draft: Draft, lead: LeadBrief) -> Check:
    bare = [
        c["text"]
        for c in draft.claims
        if not [i for i in c.get("fact_ids", []) if lead.fact(i) is not None]
    ]
    if draft.claims and not draft.citations:
        bare = bare or [c["text"] for c in draft.claims]
    return Check(
        "claims_cited", not bare, f"Claims without a fact behind them: {bare}" if bare else ""
    )


def _numbers_grounded(draft: Draft, lead: LeadBrief, campaign: CampaignBrief) -> Check:
    """Every figure in the email must come from a cited fact, the recipient's own name and
    company ("Studio 54"), or the campaign."""
    sources = " ".join(
        [f"{f.text} {f.value} {f.evidence}" for f in lead.facts if f.id in draft.citations]
        + [lead.first_name, lead.last_name, lead.title, lead.company_name, lead.company_domain]
        + [
            campaign.product,
            campaign.call_to_action,
            *campaign.value_propositions,
            *campaign.proof_points,
            *[str(c) for c in campaign.case_studies],
        ]
    )
    known = {_digits(n) for n in NUMBER_RE.findall(sources)}
    stray = [
        n.strip()
        for n in NUMBER_RE.findall(draft.body)
        if _digits(n) and _digits(n) not in known and len(_digits(n)) > 1
    ]
    return Check("numbers_grounded", not stray, f"Figures with no source: {stray}" if stray else "")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _only_our_links(text: str, campaign: CampaignBrief) -> Check:
    allowed = [link.rstrip("/").lower() for link in campaign.allowed_links]
    foreign = [
        url
        for url in URL_RE.findall(text)
        if not any(url.rstrip("/.,").lower().startswith(a) for a in allowed)
    ]
    return Check(
        "only_campaign_links",
        not foreign,
        f"Links that did not come from the campaign: {foreign}" if foreign else "",
    )


def _only_our_contacts(text: str, campaign: CampaignBrief) -> Check:
    ours = " ".join(campaign.allowed_links).lower()
    emails = [e for e in EMAIL_RE.findall(text) if e.lower() not in ours]
    # Nine digits or more: dates like 2026-03-01 are not phone numbers.
    phones = [
        p
        for p in PHONE_RE.findall(text)
        if len(_digits(p)) >= 9 and _digits(p) not in _digits(ours)
    ]
    foreign = emails + phones
    return Check(
        "only_campaign_contacts",
        not foreign,
        f"Addresses or numbers that did not come from the campaign: {foreign}" if foreign else "",
    )


def _no_placeholders(text: str) -> Check:
    found = PLACEHOLDER_RE.findall(text)
    return Check("no_placeholders", not found, f"Unfilled placeholders: {found}" if found else "")


def _length(draft: Draft, campaign: CampaignBrief, step: StepBrief) -> Check:
    words = len(draft.body.split())
    limit = step.max_words(campaign)
    problems = []
    if words > limit:
        problems.append(f"{words} words, the limit is {limit}")
    if not draft.body.strip():
        problems.append("the body is empty")
    if step.kind == "first_touch" and not draft.subject.strip():
        problems.append("the subject is empty")
    if len(draft.subject) > MAX_SUBJECT_CHARS:
        problems.append(
            f"the subject has {len(draft.subject)} characters, at most {MAX_SUBJECT_CHARS}"
        )
    return Check("length", not problems, "; ".join(problems))


def _subject_is_a_header(draft: Draft) -> Check:
    # The subject goes into an email header: a line break in it (a scraped company name
    # with CR/LF) would add headers of its own. Held here, refused again at approval
    # (outreach/review.py) and at build time (outreach/mime.py).
    problem = header_problem(draft.subject, what="The subject")
    return Check("subject_is_a_header", not problem, problem)


def _spam_words(text: str) -> Check:
    lowered = text.lower()
    found = [phrase for phrase in SPAM_PHRASES if phrase in lowered]
    if text.count("!") > 1:
        found.append("more than one exclamation mark")
    shouting = [w for w in re.findall(r"\b[A-Z]{4,}\b", text) if w not in {"CEO", "CTO", "CFO"}]
    if len(shouting) > 1:
        found.append(f"words in capitals: {shouting[:3]}")
    return Check("spam_words", not found, f"Spam-like wording: {found}" if found else "")


def _one_ask(body: str) -> Check:
    questions = body.count("?")
    return Check(
        "one_clear_ask",
        questions <= 1,
        f"{questions} questions; one clear ask reads better" if questions > 1 else "",
    )


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word 3-shingles: cheap, and blind to reordered greetings."""
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2))}


def _not_near_duplicate(body: str, others: Iterable[str]) -> Check:
    closest = max((similarity(body, other) for other in others), default=0.0)
    return Check(
        "not_near_duplicate",
        closest < NEAR_DUPLICATE,
        f"{closest:.0%} the same as another draft in this campaign"
        if closest >= NEAR_DUPLICATE
        else "",
    )


def _follow_up_is_new(draft: Draft, step: StepBrief) -> Check:
    repeated = max((similarity(draft.body, p.body) for p in step.previous), default=0.0)
    return Check(
        "follow_up_adds_something",
        repeated < FOLLOW_UP_REPEAT,
        f"{repeated:.0%} the same as an earlier email in the thread"
        if repeated >= FOLLOW_UP_REPEAT
        else "",
    )
