"""What an email names, and where each named thing comes from.

`verify.py` asks these questions of a draft: which capitalised names, role words, figures
(digits or words), dated events, links, phone numbers and street addresses it contains,
and whether each is found in a source: the facts the draft cites, the lead's record, the
sender or the campaign's offer. Figures carry their magnitude and kind, so "$40M" is
never grounded by "40 warehouses"; events need a cited fact of their own kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import tldextract

from outreach.drafting.briefs import CampaignBrief, Draft, FactRef, LeadBrief

MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}
WEEKDAYS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
# Capitalised words that are not names: greetings, sign-offs, sentence starters an email
# uses. A capitalised word elsewhere in a sentence must come from a source.
COMMON = frozenset(
    [
        "i",
        "i'm",
        "i've",
        "i'd",
        "i'll",
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "thank",
        "best",
        "regards",
        "cheers",
        "warm",
        "kind",
        "sincerely",
        "ps",
        "p.s",
        "congrats",
        "congratulations",
        "quick",
        "just",
        "saw",
        "noticed",
        "read",
        "reading",
        "seeing",
        "looks",
        "looking",
        "would",
        "could",
        "can",
        "will",
        "are",
        "is",
        "do",
        "does",
        "did",
        "should",
        "may",
        "might",
        "what",
        "when",
        "where",
        "who",
        "why",
        "how",
        "which",
        "if",
        "since",
        "as",
        "so",
        "and",
        "but",
        "or",
        "also",
        "because",
        "after",
        "before",
        "while",
        "with",
        "from",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "of",
        "about",
        "given",
        "that",
        "this",
        "these",
        "those",
        "there",
        "here",
        "it",
        "its",
        "it's",
        "we",
        "we're",
        "we've",
        "our",
        "us",
        "you",
        "you're",
        "your",
        "yours",
        "they",
        "their",
        "them",
        "he",
        "she",
        "his",
        "her",
        "my",
        "me",
        "most",
        "many",
        "some",
        "any",
        "every",
        "each",
        "all",
        "one",
        "two",
        "three",
        "few",
        "several",
        "no",
        "not",
        "nothing",
        "none",
        "great",
        "good",
        "nice",
        "happy",
        "glad",
        "curious",
        "wondering",
        "worth",
        "open",
        "free",
        "let",
        "please",
        "reply",
        "book",
        "grab",
        "pick",
        "send",
        "share",
        "happy",
        "sorry",
        "hope",
        "hoping",
        "feel",
        "feeling",
        "teams",
        "team",
        "companies",
        "company",
        "many",
        "usually",
        "often",
        "typically",
        "sounds",
        "sound",
        "not",
        "mind",
        "a",
        "an",
        "the",
        "yes",
        "ok",
        "okay",
        "sure",
        "right",
        "well",
        "now",
        "today",
        "tomorrow",
        "next",
        "last",
        "then",
        "still",
        "again",
        "however",
        "instead",
        "either",
        "both",
        "another",
        "other",
        "such",
        "more",
        "less",
        "much",
        "very",
        "really",
        "quite",
        "perhaps",
        "maybe",
        "helping",
        "help",
        "helps",
        "working",
        "work",
        "works",
        "plus",
        "whether",
        "once",
        "mostly",
        "anyway",
        "meanwhile",
        "otherwise",
        "following",
        "follow",
        "circling",
        "circle",
        "checking",
        "check",
        "bumping",
        "short",
        "brief",
        "one-line",
        "happy-to",
        "reaching",
        "reach",
        "writing",
        "wrote",
        "figured",
        "figure",
        "thought",
        "think",
        "thinking",
        "know",
        "knowing",
        "understand",
        "imagine",
        "idea",
        "ideas",
        "question",
        "note",
        "steps",
    ]
)
ROLE_WORDS = re.compile(
    r"\b(?:ceo|cto|cfo|coo|cmo|cro|ciso|vp|svp|evp|vice president|head of|director|manager"
    r"|founder|co-founder|cofounder|president|chief|owner|partner|lead|supervisor|officer"
    r"|coordinator|specialist|engineer|analyst|buyer)\b",
    re.IGNORECASE,
)
EVENT_FAMILIES: dict[str, tuple[str, frozenset[str]]] = {
    "funding": (
        r"\b(?:rais(?:e|ed|es|ing)|funding|funded|series [a-h]\b|seed round|investors?"
        r"|invest(?:ed|ment)|backed by|valuation|round)\b",
        frozenset({"signal.funding"}),
    ),
    "hiring": (
        r"\b(?:hir(?:e|ed|es|ing)|recruit\w*|open roles?|openings|job posts?|headcount)\b",
        frozenset({"signal.hiring", "open_roles_count"}),
    ),
    "launch": (
        r"\b(?:launch\w*|unveil\w*|rolled out|roll(?:ing)? out|released|new product)\b",
        frozenset({"signal.product_launch"}),
    ),
    "leadership": (
        r"\b(?:appointed|promoted|promotion|stepp(?:ed|ing) (?:in|up)|new role|took over"
        r"|named (?:as )?(?:the )?(?:new )?(?:ceo|cto|cfo|coo|vp|head|chief|president))\b",
        frozenset({"signal.leadership_change"}),
    ),
    "expansion": (
        r"\b(?:open(?:ed|ing|s)? (?:a |an |the |your |its |their )?(?:new |second |third )?"
        r"(?:site|office|warehouse|facility|location|store|plant|hub|cent(?:er|re)|dc)"
        r"|expan(?:d|ded|ding|sion)|new (?:site|office|warehouse|facility|location|hub|plant))\b",
        frozenset({"signal.expansion", "signal.news"}),
    ),
    "acquisition": (
        r"\b(?:acquir(?:e|ed|es|ing)|acquisition|merg(?:er|ed|ing)|bought)\b",
        frozenset({"signal.acquisition", "signal.news"}),
    ),
    "award": (
        r"\b(?:award\w*|won|winning|recogni[sz]ed|ranked)\b",
        frozenset({"signal.award", "signal.news"}),
    ),
    "partnership": (
        r"\b(?:partnered|partnership)\b",
        frozenset({"signal.partnership", "signal.news"}),
    ),
}
# Facts that describe a company in its own words never prove an event: an invented round
# planted in a scraped description must not ground "congrats on the raise".
_NOT_EVENT_PROOF = frozenset({"description", "tagline", "about"})
_SMALL = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
        ]
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate(
        ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    )
    if w != "_"
}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_MAGNITUDE = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_FIGURE = re.compile(
    r"(?<![\w.,/-])(?P<cur>[$€£¥])?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mag>k|mm|mn|m|bn|b|thousand|million|billion)\b)?"
    r"(?P<pct>\s?%|\s?percent\b)?(?P<tail>(?:st|nd|rd|th)\b|\s?(?:am|pm)\b|:\d\d)?",
    re.IGNORECASE,
)
_NUMBER_WORD = (
    r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty"
    r"|seventy|eighty|ninety|hundred|thousand|million|billion)"
)
_NUMBER_RE_WORD = re.compile(rf"^{_NUMBER_WORD}(?:-{_NUMBER_WORD})?$")
_WORD_FIGURE = re.compile(
    rf"\b(?P<words>{_NUMBER_WORD}(?:(?:\s+|-|\s+and\s+){_NUMBER_WORD})*)\b"
    r"(?P<pct>\s+percent\b)?(?P<unit>\s+(?:dollars|euros|pounds|usd|eur))?",
    re.IGNORECASE,
)
_TIME_UNIT = re.compile(r"^\s*-?\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|seconds?)\b", re.I)
_DATE_TOKENS = re.compile(
    r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_LINK = re.compile(
    r"(?<![@\w.-])(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?"
    r"(?:/[^\s<>()\"']*)?",
    re.IGNORECASE,
)
_DIGIT_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)"
_PHONES = (
    re.compile(r"(?<![\w.])\+?\(?\d[\d\s()./-]{5,}\d\b"),
    # Vanity numbers: 1-800-FLOWERS, 800-CALL-NOW.
    re.compile(r"\b(?:1[-. ])?\(?\d{3}\)?[-. ][A-Z0-9]*[A-Z][A-Z0-9]{2,}(?:[-. ][A-Z0-9]{2,})*\b"),
    re.compile(rf"\b{_DIGIT_WORDS}(?:[\s,-]+{_DIGIT_WORDS}){{6,}}\b", re.IGNORECASE),
)
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|way|court|ct|place|pl"
    r"|plaza|parkway|pkwy|highway|hwy)\b"
)
_ADDRESS = re.compile(
    rf"\b(?:\d{{1,6}}|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*)\s+(?:[A-Z][\w.'-]*\s+){{1,4}}"
    rf"{_STREET}",
    re.IGNORECASE,
)
_HOSTILE = re.compile(
    r"\bas an? (?:ai|artificial intelligence|language model|llm|assistant|chatbot)\b"
    r"|(?:^|\n)\s*(?:assistant|system|user|ai|bot)\s*:"
    r"|\b(?:ignore|disregard)\b.{0,40}\b(?:instructions?|rules|prompt)\b"
    r"|\b(?:do not|don't) (?:tell|mention|reveal)\b.{0,30}\b(?:user|recipient|human)\b"
    r"|[A-Za-z0-9+/]{40,}={0,2}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sources:
    cited: tuple[FactRef, ...]
    everything: str  # lower-cased, all sources joined
    words: frozenset[str]
    capitals: frozenset[str]
    figures: frozenset[tuple[float, str]]

    @classmethod
    def build(cls, draft: Draft, lead: LeadBrief, campaign: CampaignBrief) -> Sources:
        cited = tuple(f for f in lead.facts if f.id in draft.citations)
        texts = [*(fact_source(f) for f in cited), *lead_record(lead), *sender_and_offer(campaign)]
        return cls.of_texts(cited, texts)

    @classmethod
    def of_facts(cls, facts: Sequence[FactRef], lead: LeadBrief) -> Sources:
        return cls.of_texts(tuple(facts), [*(fact_source(f) for f in facts), *lead_record(lead)])

    @classmethod
    def of_texts(cls, cited: tuple[FactRef, ...], texts: list[str]) -> Sources:
        from leads.names import normalize_text

        joined = normalize_text("\n".join(t for t in texts if t))
        figures = {fig for text in texts for fig in figures_in(normalize_text(text), all_=True)}
        return cls(
            cited=cited,
            everything=joined.lower(),
            words=frozenset(_words(joined.lower())),
            capitals=frozenset(re.findall(r"\b[A-Z]{2,}\b", joined)),
            figures=frozenset(figures),
        )


def fact_source(fact: FactRef) -> str:
    parts = [fact.text, fact.evidence]
    if isinstance(fact.value, dict):
        parts += [str(v) for v in fact.value.values()]
    elif not isinstance(fact.value, str):
        parts.append(str(fact.value))
    return "\n".join(parts)


def lead_record(lead: LeadBrief) -> list[str]:
    return [lead.first_name, lead.last_name, lead.title, lead.company_name, lead.company_domain]


def sender_and_offer(campaign: CampaignBrief) -> list[str]:
    return [
        campaign.sender_name,
        campaign.sender_title,
        campaign.sender_company,
        offer_text(campaign),
        *campaign.allowed_links,
    ]


def offer_text(campaign: CampaignBrief) -> str:
    return "\n".join(
        [
            campaign.product,
            campaign.call_to_action,
            *campaign.value_propositions,
            *campaign.proof_points,
            *[" ".join(str(v) for v in c.values()) for c in campaign.case_studies],
        ]
    )


# Business terms written in capitals that name no one: "no IT project", "your ERP", "the
# KPIs". A made-up company in capitals ("IBM") is still a name that needs a source.
GENERIC_TERMS = frozenset([
    "it", "hr", "erp", "crm", "wms", "tms", "saas", "roi", "kpi", "kpis", "sla", "slas", "api",
    "apis", "ui", "ux", "qa", "ml", "sms", "faq", "faqs", "b2b", "b2c", "pdf", "csv", "gdpr",
    "ops", "revops", "devops", "sdr", "sdrs", "bdr", "bdrs",
])  # fmt: skip


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_][\w'’&-]*", text)


def sentences(text: str) -> list[str]:
    parts = re.split(r"\n+|(?<=[.!?])\s+", text)
    return [p.strip() for p in parts if p.strip()]


def greeting_name(body: str) -> str | None:
    first = next((line for line in body.splitlines() if line.strip()), "")
    match = re.match(
        r"\s*(?:hi|hello|hey|dear|good (?:morning|afternoon))\s+([^\s,!:;.]+)", first, re.I
    )
    return match.group(1) if match else None


# -- names ------------------------------------------------------------------------------


def unknown_names(text: str, sources: Sources) -> list[str]:
    """Capitalised words and role words that no source has."""
    text = _without_links_and_addresses(text)
    unknown: list[str] = []
    lowered_text = set(re.findall(r"\b[a-z][\w'-]*", text))
    for sentence in sentences(text):
        for index, match in enumerate(re.finditer(r"(?<![\w'’-])[^\W\d_][\w'’&-]*", sentence)):
            word = re.sub(r"['’]s$", "", match.group(0)).strip("-'’")
            low = word.lower()
            if not word[:1].isupper() or low in sources.words or low in WEEKDAYS:
                continue
            if (
                low in MONTHS
                or low in _MONTH_ABBR
                or low in {"i", "ai"}
                or low in GENERIC_TERMS
                or _NUMBER_RE_WORD.match(low)
            ):
                continue
            if index == 0 and (low in COMMON or low in lowered_text or _inflected(low)):
                continue
            unknown.append(word)
    for match in ROLE_WORDS.finditer(text):
        role = match.group(0).lower()
        if role not in sources.everything and role not in unknown:
            unknown.append(match.group(0))
    return list(dict.fromkeys(unknown))


def _inflected(word: str) -> bool:
    # A sentence-starting verb or adverb ("Seeing", "Noticed", "Usually") is not a name.
    return len(word) > 4 and word.endswith(("ing", "ed", "ly"))


def _without_links_and_addresses(text: str) -> str:
    from outreach.drafting.verify import EMAIL_RE

    return _LINK.sub(" ", EMAIL_RE.sub(" ", text))


# -- figures ----------------------------------------------------------------------------


def figures_in(text: str, *, all_: bool = False) -> list[tuple[float, str]]:
    """(value, kind) of every figure; without `all_`, those a reader takes as a claim."""
    return [(value, kind) for value, kind, _ in _figures(text, all_=all_)]


def _figures(text: str, *, all_: bool) -> list[tuple[float, str, str]]:
    text = _DATE_TOKENS.sub(" ", _without_links_and_addresses(text))
    found = []
    for m in _FIGURE.finditer(text):
        if m.group("tail"):
            continue  # ordinals and times of day are dates, not claims
        value = float(m.group("num").replace(",", ""))
        mag = (m.group("mag") or "").lower()
        value *= _MAGNITUDE.get(mag, 1)
        kind = "pct" if m.group("pct") else "num"
        plain = not (m.group("cur") or mag or m.group("pct"))
        after = text[m.end() : m.end() + 12]
        if not all_ and plain and (value < 10 or _is_year(value, m.group("num"))):
            continue
        if not all_ and plain and _TIME_UNIT.match(after) and value <= 90:
            continue
        found.append((value, kind, m.group(0).strip()))
    for m in _WORD_FIGURE.finditer(text):
        value = _word_value(m.group("words"))
        kind = "pct" if m.group("pct") else "num"
        words = m.group("words").lower()
        amount = m.group("pct") or m.group("unit") or any(s in words for s in _SCALES)
        after = text[m.end() : m.end() + 12]
        if not all_ and value < 10 and not amount:
            continue
        if not all_ and not amount and _TIME_UNIT.match(after):
            continue
        found.append((value, kind, m.group(0).strip()))
    return found


def _is_year(value: float, raw: str) -> bool:
    return raw.isdigit() and len(raw) == 4 and 1900 <= value <= 2100


def _word_value(words: str) -> float:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words.lower()):
        if word == "and":
            continue
        if word in _SMALL:
            current += _SMALL[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return float(total + current)


def unknown_figures(text: str, sources: Sources) -> list[str]:
    stray = []
    for value, kind, raw in _figures(text, all_=False):
        if not any(abs(value - v) < 1e-6 * max(1.0, v) and k == kind for v, k in sources.figures):
            stray.append(raw)
    return list(dict.fromkeys(stray))


# -- events and dates -------------------------------------------------------------------


def unsupported_events(
    text: str,
    cited: Sequence[FactRef],
    sources: Sources,
    campaign: CampaignBrief | None = None,
) -> list[str]:
    """Sentences that report an event of a kind no cited fact reports."""
    offer = offer_text(campaign).lower() if campaign else ""
    problems = []
    for sentence in sentences(text):
        for family, (pattern, fields) in EVENT_FAMILIES.items():
            match = re.search(pattern, sentence, re.IGNORECASE)
            if match is None or match.group(0).lower() in offer:
                continue
            if _we_say_it(sentence) and match.group(0).lower() in sources.everything:
                continue
            if not any(_reports(fact, family, pattern, fields) for fact in cited):
                problems.append(f"{family}: {sentence[:80]!r}")
    return problems


def _we_say_it(sentence: str) -> bool:
    return bool(re.match(r"\s*(?:we|our|i)\b", sentence, re.IGNORECASE))


def _reports(fact: FactRef, family: str, pattern: str, fields: frozenset[str]) -> bool:
    if fact.field in fields:
        return True
    if fact.field in _NOT_EVENT_PROOF or fact.field.startswith("signal.") is False:
        return False
    return re.search(pattern, fact_source(fact), re.IGNORECASE) is not None


def undated_events(text: str, cited: Sequence[FactRef]) -> list[str]:
    """A date in a sentence that reports an event must be the cited fact's date."""
    months, years = set(), set()
    for fact in cited:
        for day in (fact.happened_on, fact.observed_on):
            if day is not None:
                months.add(MONTHS[day.month - 1])
                years.add(day.year)
        source = fact_source(fact).lower()
        months |= {m for m in MONTHS if m in source}
        years |= {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", source)}
    problems = []
    for sentence in sentences(text):
        if not any(re.search(p, sentence, re.I) for p, _ in EVENT_FAMILIES.values()):
            continue
        said_months = {
            _MONTH_ABBR.get(w[:4], _MONTH_ABBR.get(w[:3], w))
            for w in re.findall(r"\b[a-z]+\b", sentence.lower())
            if w in MONTHS or (w in _MONTH_ABBR and w != "may")
        }
        said_years = {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", sentence)}
        wrong = sorted(said_months - months) + [str(y) for y in sorted(said_years - years)]
        if wrong:
            problems.append(f"date {', '.join(wrong)} in {sentence[:60]!r}")
    return problems


# -- links, phones, addresses -----------------------------------------------------------


_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "internal"})


@lru_cache(maxsize=1)
def _extract() -> tldextract.TLDExtract:
    # The bundled public-suffix snapshot: no network fetch at check time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _parts(link: str) -> tuple[str, str, str] | None:
    """(host, registrable domain, path) of a link written with or without a scheme."""
    raw = link if re.match(r"(?i)^https?://", link) else f"http://{link}"
    try:
        split = urlsplit(raw.rstrip(".,;:!?"))
    except ValueError:
        return None
    host = (split.hostname or "").lower()
    parts = _extract()(host)
    if parts.suffix and parts.domain:
        return host, parts.top_domain_under_public_suffix, split.path.rstrip("/")
    labels = host.split(".")
    # Reserved names (RFC 2606) and anything written with a scheme are links too.
    if len(labels) >= 2 and (labels[-1] in _RESERVED_TLDS or raw is link):
        return host, ".".join(labels[-2:]), split.path.rstrip("/")
    return None


def foreign_links(text: str, allowed_links: Iterable[str]) -> list[str]:
    allowed = [p for link in allowed_links if (p := _parts(link.strip()))]
    foreign = []
    for match in _LINK.finditer(text):
        found = _parts(match.group(0))
        if found is None:
            continue  # "e.g.", "Node.js", "3.5x": not a domain
        if not any(_covered(found, a) for a in allowed):
            foreign.append(match.group(0).rstrip(".,;:!?"))
    return foreign


def _covered(found: tuple[str, str, str], allowed: tuple[str, str, str]) -> bool:
    host, domain, path = found
    a_host, a_domain, a_path = allowed
    if domain != a_domain:
        return False
    same_host = host == a_host or host.removeprefix("www.") == a_host.removeprefix("www.")
    if a_path:
        # A link to one page of a shared host (a calendar) allows only that page.
        return same_host and (path == a_path or path.startswith(a_path + "/"))
    return same_host or host.endswith("." + a_host.removeprefix("www."))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_numbers(text: str) -> list[str]:
    text = _DATE_TOKENS.sub(" ", text)
    found = []
    for pattern in _PHONES:
        for match in pattern.finditer(text):
            raw = match.group(0).strip()
            if pattern is _PHONES[0] and len(digits(raw)) < 7:
                continue
            found.append(raw)
    return list(dict.fromkeys(found))


def street_addresses(text: str, known: str) -> list[str]:
    return [m.group(0) for m in _ADDRESS.finditer(text) if m.group(0).lower() not in known.lower()]


# -- hostile text, masking, language ----------------------------------------------------


def looks_hostile(text: str) -> bool:
    """Role-play and smuggling the shared instruction filter misses: "As an AI
    assistant...", "Assistant: ...", a base64 blob."""
    return _HOSTILE.search(text) is not None


def mask_lead(text: str, lead: LeadBrief) -> str:
    names = [lead.first_name, lead.last_name, *lead.company_name.split()]
    for name in sorted({n for n in names if len(n) > 1}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "name", text, flags=re.IGNORECASE)
    return text


_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")


def words_of(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def capitalised_words(text: str) -> frozenset[str]:
    """Lowercased, the words `mask_names` may mask."""
    return frozenset(word.lower() for word in _CAPITALISED.findall(text))


def foreign_names(capitalised: frozenset[str], have: frozenset[str]) -> frozenset[str]:
    """Of another email's capitalised words, those this one does not have and that are not
    common words: the other lead's names."""
    return frozenset(word for word in capitalised - have if word not in COMMON)


def mask_names(text: str, names: frozenset[str]) -> str:
    """`text` with each capitalised word that is one of `names` (lowercased) as "name"."""
    if not names:
        return text
    return _CAPITALISED.sub(
        lambda match: "name" if match.group(0).lower() in names else match.group(0), text
    )


def language_of(body: str, lead: LeadBrief, campaign: CampaignBrief) -> str | None:
    """The draft's language, or None when the text is too short to tell."""
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    text = mask_lead(body, lead)
    for line in [campaign.sender_name, campaign.sender_title, campaign.sender_company]:
        text = text.replace(line, " ") if line else text
    words = re.findall(r"[^\W\d_]+", text)
    if len(words) < 12:
        return None
    DetectorFactory.seed = 0  # langdetect is random otherwise: the same text, the same answer
    try:
        ranked = detect_langs(" ".join(words))
    except LangDetectException:
        return None
    wanted = campaign.language.split("-")[0].lower()
    top = ranked[0]
    wanted_prob = next((r.prob for r in ranked if r.lang == wanted), 0.0)
    if top.lang != wanted and top.prob > 0.8 and wanted_prob < 0.15:
        return str(top.lang)
    return wanted
