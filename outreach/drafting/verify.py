"""Step 3 of drafting: checks a draft must pass before anyone may send it.

The checks stand on their own: a checking model can be lazy, fooled by the same injected
text, or down. So code grounds what the email *names* (proper nouns, figures, amounts in
digits or words, dated events, links, addresses, phone numbers, in the subject and the
body) in the facts it cites, the lead's record, the sender and the offer, whatever the
model declared. Declared claims are a help: each must stand on its own cited facts.

Every check reads the text after `normalize_text` (NFKC, no zero-width or bidi
characters, look-alike letters folded), so a look-alike spelling is caught like the plain.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from leads.names import normalize_text
from outreach.drafting import grounding as g
from outreach.drafting.briefs import CampaignBrief, Check, Draft, LeadBrief, StepBrief
from sdr.headers import header_problem

EMAIL_RE = re.compile(r"(?i)\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Kept for callers that scan replies for figures (outreach/replies/answer.py).
NUMBER_RE = re.compile(r"[$€£]?\d[\d,.]*\s?(?:%|[kKmMbB]\b|million|billion)?")
PLACEHOLDER_RE = re.compile(
    r"\{\{.*?\}\}|\{[^{}\n]{1,40}\}|\[[^\[\]\n]{1,40}\]|%[A-Za-z_ ]{1,30}%"
    r"|<[A-Za-z_ ]{1,30}>|\bXXX+\b|\bTODO\b|\bTBD\b|lorem ipsum|_{3,}",
    re.IGNORECASE,
)
# Phrases that make filters and people distrust a cold email. "urgent" is not here: an
# ordinary sentence uses it; in a subject it is hype (HYPE_SUBJECT).
SPAM_PHRASES = (
    "act now",
    "100% free",
    "risk-free",
    "risk free",
    "guaranteed",
    "no obligation",
    "click here",
    "limited time",
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
HYPE_SUBJECT = re.compile(
    r"\b(?:urgent|last chance|final chance|limited|only \w+ (?:left|spots?|seats?)|exclusive"
    r"|don'?t miss|act (?:now|fast)|hurry|expir\w*|ending soon|today only|free|game[- ]?chang\w*"
    r"|revolution\w*|skyrocket\w*|\d+x\b|insane|unbelievable|secret|guarantee\w*|asap"
    r"|deadline|before it'?s gone|spots? left|!)",
    re.IGNORECASE,
)
TONE = re.compile(
    r"\b(?:stupid|idiot\w*|incompetent|clueless|lazy|pathetic|dumb|moron\w*|useless"
    r"|embarrassing|ridiculous|shameful|amateur\w*|you must|you need to (?:reply|respond|act"
    r"|answer|decide)|or else|last warning|final warning|why haven'?t you|stop ignoring"
    r"|ignoring me|you(?:'re| are) (?:losing|wasting|failing|behind)|wasting my time"
    r"|falling behind|left behind|regret)\b",
    re.IGNORECASE,
)
MONEY_REQUEST = re.compile(
    r"\b(?:wire|bank transfer|transfer (?:the |a )?(?:funds|money|payment|deposit|fee)"
    r"|send (?:us |me )?(?:the |a |your )?(?:payment|money|funds|deposit|fee)"
    r"|pay (?:us|me|the|a|an|your|upfront|now|today)|payment (?:of|to|details|link)"
    r"|deposit|gift ?cards?|bitcoin|btc|crypto\w*|iban|swift|routing number|account number"
    r"|western union|moneygram|paypal|venmo|zelle|invoice|remit\w*|processing fee"
    r"|advance fee)\b",
    re.IGNORECASE,
)
ASK_START = re.compile(
    r"^(?:would|could|can|will|shall|should|may|might|let me know|please|reply|book|grab"
    r"|pick|send|share|forward|introduce|point me|tell me"
    r"|schedule|call me|hop on|jump on)\b",
    re.IGNORECASE,
)
ASK_INSIDE = re.compile(
    r"\b(?:would you|could you|can you|will you|are you (?:open|free|around|up for|available)"
    r"|let me know|please (?:reply|send|share|forward|book|let|introduce|confirm|pay|call)"
    r"|worth a (?:chat|call|look)|open to|up for a|happy to (?:set up|jump|hop)"
    r"|send me|share (?:your|the)|forward (?:this|me)|book a|grab (?:a|some) time"
    r"|point me to|introduce me)\b",
    re.IGNORECASE,
)
# What a seller may only say of the product when the offer says it.
OFFER_CLAIMS = re.compile(
    r"\b(?:integrat\w+ with|certified|certification|compliant|compliance|patent\w*"
    r"|free (?:trial|installation|setup|pilot|shipping|month)|money[- ]back|no contract"
    r"|unlimited|24/7|award[- ]winning|warrant\w*|refund\w*|plug[- ]and[- ]play"
    r"|fully automated|zero downtime|no (?:it|setup|upfront) (?:work|cost|fees?)"
    r"|number one|#1|market leader|industry[- ]leading)",
    re.IGNORECASE,
)
MAX_SUBJECT_CHARS = 80
NEAR_DUPLICATE = 0.85
FOLLOW_UP_REPEAT = 0.6
MIN_WORDS_FOR_LANGUAGE = 12


def draft_verify(
    *,
    draft: Draft,
    lead: LeadBrief,
    campaign: CampaignBrief,
    step: StepBrief,
    other_bodies: Iterable[str] = (),
) -> list[Check]:
    """Run every code check. The model check, when configured, is added by the pipeline."""
    from leads.extraction.safety import looks_like_instructions

    subject, body = normalize_text(draft.subject), normalize_text(draft.body)
    # A follow-up's subject is the thread's first subject, checked when it was sent.
    checked_subject = "" if _threaded(draft.subject, step) else subject
    text = f"{checked_subject}\n{body}"
    sources = g.Sources.build(draft, lead, campaign)
    injected = looks_like_instructions(text) or g.looks_hostile(text)
    checks = [
        citations_known(draft, lead),
        claims_cited(draft, lead, step),
        claims_grounded(draft, lead),
        greeting_matches(body, lead),
        names_grounded(text, sources),
        figures_grounded(text, sources),
        events_grounded(body, checked_subject, sources, campaign),
        only_campaign_links(text, campaign),
        only_campaign_contacts(text, campaign, sources),
        Check(
            "no_injected_instructions",
            not injected,
            "The draft reads like instructions taken from scraped text." if injected else "",
        ),
        no_placeholders(text),
        length_check(draft, campaign, step),
        subject_is_a_header(draft),
        spam_words(text, sources),
        subject_not_hype(subject),
        tone_check(text),
        no_money_request(text, campaign),
        no_competitors(text, campaign),
        offer_claims_grounded(text, campaign),
        language_matches(body, campaign, lead),
        first_touch_is_new(subject, step),
        one_ask(body),
        not_near_duplicate(body, other_bodies, lead),
    ]
    if step.kind != "first_touch":
        checks.append(follow_up_is_new(draft, step))
    return checks


def _threaded(subject: str, step: StepBrief) -> bool:
    return bool(step.kind != "first_touch" and step.previous) and subject == (
        f"Re: {step.previous[0].subject}"
    )


def citations_known(draft: Draft, lead: LeadBrief) -> Check:
    unknown = [c for c in draft.citations if lead.fact(c) is None]
    return Check(
        "citations_known",
        not unknown,
        f"Cited ids that are not facts of this lead: {unknown}" if unknown else "",
    )


def claims_cited(draft: Draft, lead: LeadBrief, step: StepBrief) -> Check:
    """Declared claims need facts; a model's first touch that declares nothing at all while
    it writes about the lead is not taken on trust."""
    bare = [
        c.get("text", "")
        for c in draft.claims
        if not [i for i in c.get("fact_ids", []) if lead.fact(i) is not None]
    ]
    problems = [f"Claims without a fact behind them: {bare}"] if bare else []
    if draft.claims and not draft.citations:
        problems.append("claims are declared but no fact is cited")
    first = step.kind == "first_touch"
    if first and draft.drafter == "llm" and draft.angle.fact_id and not draft.citations:
        problems.append("the draft cites no fact although it was written from one")
    if draft.citations and not draft.claims and draft.drafter == "llm":
        problems.append("facts are cited but no claim says what they support")
    return Check("claims_cited", not problems, "; ".join(problems))


def claims_grounded(draft: Draft, lead: LeadBrief) -> Check:
    """Each declared claim must be said by its own cited facts: its names, figures and the
    kind of event it reports, not merely share an id with a real fact."""
    wrong = []
    for claim in draft.claims:
        facts = [f for i in claim.get("fact_ids", []) if (f := lead.fact(i)) is not None]
        if not facts:
            continue  # claims_cited reports it
        own = g.Sources.of_facts(facts, lead)
        claim_text = normalize_text(str(claim.get("text", "")))
        problems = g.unknown_names(claim_text, own) + g.unknown_figures(claim_text, own)
        problems += g.unsupported_events(claim_text, facts, own)
        if problems:
            wrong.append(f"{claim_text[:80]!r} ({', '.join(problems[:3])})")
    return Check(
        "claims_grounded",
        not wrong,
        f"Claims their cited facts do not say: {wrong}" if wrong else "",
    )


def greeting_matches(body: str, lead: LeadBrief) -> Check:
    name = g.greeting_name(body)
    ok = name is None or name == lead.first_name or name.lower() in {"there", "team", "all"}
    return Check(
        "greeting_matches_lead",
        ok,
        "" if ok else f"The greeting names {name!r}; the lead is {lead.first_name!r}",
    )


def names_grounded(text: str, sources: g.Sources) -> Check:
    unknown = g.unknown_names(text, sources)
    return Check(
        "names_grounded",
        not unknown,
        f"Names, titles or places with no source: {unknown}" if unknown else "",
    )


def figures_grounded(text: str, sources: g.Sources) -> Check:
    """Every figure must match a figure of one source (value and kind: "$40M" is not the
    campaign's "40 warehouses"), in the subject as in the body."""
    stray = g.unknown_figures(text, sources)
    return Check("numbers_grounded", not stray, f"Figures with no source: {stray}" if stray else "")


def events_grounded(body: str, subject: str, sources: g.Sources, campaign: CampaignBrief) -> Check:
    problems = g.unsupported_events(f"{subject}.\n{body}", sources.cited, sources, campaign)
    problems += g.undated_events(f"{subject}.\n{body}", sources.cited)
    return Check(
        "events_grounded",
        not problems,
        f"Events the cited facts do not report: {problems}" if problems else "",
    )


def only_campaign_links(text: str, campaign: CampaignBrief) -> Check:
    foreign = g.foreign_links(text, campaign.allowed_links)
    return Check(
        "only_campaign_links",
        not foreign,
        f"Links that did not come from the campaign: {foreign}" if foreign else "",
    )


def only_campaign_contacts(
    text: str, campaign: CampaignBrief, sources: g.Sources | None = None
) -> Check:
    ours = " ".join(campaign.allowed_links).lower()
    emails = [e for e in EMAIL_RE.findall(text) if e.lower() not in ours]
    phones = [p for p in g.phone_numbers(text) if g.digits(p) not in g.digits(ours)]
    addresses = g.street_addresses(text, sources.everything if sources else ours)
    foreign = emails + phones + addresses
    return Check(
        "only_campaign_contacts",
        not foreign,
        f"Addresses or numbers that did not come from the campaign: {foreign}" if foreign else "",
    )


def no_placeholders(text: str) -> Check:
    found = PLACEHOLDER_RE.findall(text)
    return Check("no_placeholders", not found, f"Unfilled placeholders: {found}" if found else "")


def length_check(draft: Draft, campaign: CampaignBrief, step: StepBrief) -> Check:
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


def subject_is_a_header(draft: Draft) -> Check:
    # The subject goes into an email header: a line break in it (a scraped company name
    # with CR/LF) would add headers of its own. Held here, refused again at approval
    # (outreach/review.py) and at build time (outreach/mime.py).
    problem = header_problem(draft.subject, what="The subject")
    return Check("subject_is_a_header", not problem, problem)


def spam_words(text: str, sources: g.Sources | None = None) -> Check:
    lowered = text.lower()
    found = [phrase for phrase in SPAM_PHRASES if phrase in lowered]
    if text.count("!") > 1:
        found.append("more than one exclamation mark")
    # Capitals the sources have ("IKEA", "NASA") are names, not shouting.
    known = sources.capitals if sources else frozenset()
    shouting = [
        w
        for w in re.findall(r"\b[A-Z]{4,}\b", text)
        if w not in {"CEO", "CTO", "CFO", "COO", "CMO"} and w not in known
    ]
    if len(shouting) > 1:
        found.append(f"words in capitals: {shouting[:3]}")
    return Check("spam_words", not found, f"Spam-like wording: {found}" if found else "")


def subject_not_hype(subject: str) -> Check:
    found = sorted({m.group(0).lower() for m in HYPE_SUBJECT.finditer(subject)})
    if subject.isupper() and len(subject) > 3:
        found.append("all capitals")
    return Check(
        "subject_not_hype", not found, f"Hype or scarcity in the subject: {found}" if found else ""
    )


def tone_check(text: str) -> Check:
    found = sorted({m.group(0).lower() for m in TONE.finditer(text)})
    return Check("tone", not found, f"Insulting or pressuring words: {found}" if found else "")


def no_money_request(text: str, campaign: CampaignBrief) -> Check:
    # A word the offer itself uses ("invoice automation") is the product, not a request.
    offer = g.offer_text(campaign).lower()
    found = sorted(
        {
            m.group(0).lower()
            for m in MONEY_REQUEST.finditer(text)
            if m.group(0).lower() not in offer
        }
    )
    return Check(
        "no_money_request",
        not found,
        f"Asks for money or payment details: {found}" if found else "",
    )


def offer_claims_grounded(text: str, campaign: CampaignBrief) -> Check:
    offer = g.offer_text(campaign).lower()
    found = sorted({m.group(0).lower() for m in OFFER_CLAIMS.finditer(text)} - {""})
    found = [claim for claim in found if claim not in offer]
    return Check(
        "offer_claims_grounded",
        not found,
        f"Product claims the offer does not make: {found}" if found else "",
    )


def no_competitors(text: str, campaign: CampaignBrief) -> Check:
    lowered = text.lower()
    found = [
        name
        for name in campaign.competitors
        if name.strip() and re.search(rf"(?<!\w){re.escape(name.strip().lower())}(?!\w)", lowered)
    ]
    return Check("no_competitors", not found, f"Names a competitor: {found}" if found else "")


def language_matches(body: str, campaign: CampaignBrief, lead: LeadBrief) -> Check:
    found = g.language_of(body, lead, campaign)
    wanted = campaign.language.split("-")[0].lower()
    ok = found is None or found == wanted
    return Check(
        "language_matches",
        ok,
        "" if ok else f"The email reads as {found!r}; the campaign's language is {wanted!r}",
    )


def first_touch_is_new(subject: str, step: StepBrief) -> Check:
    fake = step.kind == "first_touch" and re.match(
        r"^\s*(?:re|fwd?|aw|sv|tr)\s*(?:\[\d+\])?\s*:", subject, re.IGNORECASE
    )
    return Check(
        "first_touch_not_a_reply",
        not fake,
        "A first email cannot pretend to be a reply or a forward" if fake else "",
    )


def one_ask(body: str) -> Check:
    asks = [s for s in g.sentences(body) if _asks(s)]
    return Check(
        "one_clear_ask",
        len(asks) <= 1,
        f"{len(asks)} asks ({asks[:3]}); one clear ask reads better" if len(asks) > 1 else "",
    )


def _asks(sentence: str) -> bool:
    stripped = sentence.strip()
    return (
        stripped.endswith("?")
        or bool(ASK_START.match(stripped) and len(stripped.split()) > 2)
        or bool(ASK_INSIDE.search(stripped))
    )


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word 3-shingles: cheap, and blind to reordered greetings."""
    return _jaccard(_shingles(a), _shingles(b))


def _jaccard(sa: frozenset[tuple[str, ...]], sb: frozenset[tuple[str, ...]]) -> float:
    if not sa or not sb:
        return 0.0
    shared = len(sa & sb)
    return shared / (len(sa) + len(sb) - shared)


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return frozenset(tuple(words[i : i + 3]) for i in range(max(0, len(words) - 2)))


def not_near_duplicate(body: str, others: Iterable[str], lead: LeadBrief | None = None) -> Check:
    """Compared after masking names: another lead's email with only the names swapped is
    a copy. This draft's lead names are masked; in the other email, capitalised words that
    this draft does not have (that lead's names) are masked too."""
    mine = g.mask_lead(normalize_text(body), lead) if lead else body
    mine_shingles, have = _shingles(mine), g.words_of(mine)
    closest = max((_jaccard(mine_shingles, _masked_shingles(o, have)) for o in others), default=0.0)
    return Check(
        "not_near_duplicate",
        closest < NEAR_DUPLICATE,
        f"{closest:.0%} the same as another draft in this campaign"
        if closest >= NEAR_DUPLICATE
        else "",
    )


# A draft is compared with up to 500 others of its campaign, and the next draft with
# nearly the same ones: each other body is folded once, and its shingles are kept for each
# set of names masked in it (nearly always one set: its own lead's names). About 10 KB an
# entry for a 60-word email: two campaigns' worth in some 20 MB a worker.
_OTHERS_KEPT = 2048


def _masked_shingles(other: str, have: frozenset[str]) -> frozenset[tuple[str, ...]]:
    folded, capitalised = _folded(other)
    return _shingles_masked(folded, g.foreign_names(capitalised, have))


@functools.lru_cache(maxsize=_OTHERS_KEPT)
def _folded(other: str) -> tuple[str, frozenset[str]]:
    folded = normalize_text(other)
    return folded, g.capitalised_words(folded)


@functools.lru_cache(maxsize=_OTHERS_KEPT)
def _shingles_masked(folded: str, names: frozenset[str]) -> frozenset[tuple[str, ...]]:
    return _shingles(g.mask_names(folded, names))


def follow_up_is_new(draft: Draft, step: StepBrief) -> Check:
    repeated = max((similarity(draft.body, p.body) for p in step.previous), default=0.0)
    return Check(
        "follow_up_adds_something",
        repeated < FOLLOW_UP_REPEAT,
        f"{repeated:.0%} the same as an earlier email in the thread"
        if repeated >= FOLLOW_UP_REPEAT
        else "",
    )
