"""Dated events in press releases, news and blog posts: funding rounds, product launches,
new leaders, and other dated news."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from itertools import islice

from leads.extraction.items import Item, text_of
from leads.extraction.page import Page
from leads.extraction.team import looks_like_name
from leads.extraction.text import clean, find_date
from leads.extraction.tree import Element, strings, text
from leads.extraction.types import ExtractedSignal, Found

ARTICLE_TYPES = (
    "newsarticle",
    "article",
    "blogposting",
    "pressrelease",
    "report",
    "reportagenewsarticle",
)
SKIPPED_PAGES = {"careers", "team", "contact"}
NEWS_PAGES = {"press", "blog"}
MAX_ITEMS = 30
MAX_ITEM_TEXT = 1_500

_AMOUNT = re.compile(
    r"(?P<symbol>US\$|C\$|A\$|\$|€|£|\b(?:USD|EUR|GBP))"
    r"\s?(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<unit>million|billion|thousand|mn|bn|[mbk])\b)?"
    r"|\b(?P<num2>\d+(?:\.\d+)?)\s?(?P<unit2>million|billion|mn|bn|[mb])?"
    r"\s?(?P<word>dollars|euros|pounds|USD|EUR|GBP|€|£)",
    re.I,
)
_UNITS = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "b": 9, "bn": 9, "billion": 9}
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollars": "USD",
    "c$": "CAD",
    "a$": "AUD",
    "€": "EUR",
    "eur": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pounds": "GBP",
}
_FUNDING_VERB = re.compile(
    r"\b(?:rais(?:es|ed)|clos(?:es|ed)|secur(?:es|ed)|land(?:s|ed)|complet(?:es|ed)"
    r"|announc(?:es|ed)|receiv(?:es|ed)|bags|nabs|gets)\b",
    re.I,
)
_FUNDING_WORD = re.compile(
    r"\b(?:funding|round|investment|financing|seed|series [a-h]\d?|capital raise)\b", re.I
)
_ROUND = re.compile(r"\b(pre-seed|seed|series [a-h]\d?|growth|bridge|angel|mezzanine)\b", re.I)
_STOP = r"(?=,?\s+(?:with|to|bringing|which|as|for)\b|[.;()]|$)"
_INVESTORS = (
    re.compile(rf"\b(?:co-)?led by (?P<names>[A-Z][^.;()]{{1,200}}?){_STOP}"),
    re.compile(rf"\bparticipation (?:from|of|by) (?P<names>[^.;()]{{2,200}}?){_STOP}"),
    re.compile(
        rf"\b(?:funding|investment|round|capital|investors?) (?:from|including) "
        rf"(?P<names>[A-Z][^.;()]{{1,200}}?){_STOP}"
    ),
)
_NAME_SPLIT = re.compile(r",\s*(?:and\s+)?|\s+and\s+")
_NOT_INVESTOR = re.compile(r"^(?:existing|new|other|several|many|a|an|the|its|our)\b", re.I)
_ROLE = (
    r"Chief (?:[A-Z][a-z]+ ){1,2}Officer|(?:Senior |Executive )?Vice President(?: of [A-Z][\w&]+)?"
    r"|[SE]?VP(?:,? of)?(?: [A-Z][\w&]+){0,2}|Head of(?: [A-Z][\w&]+){1,2}|General Manager"
    r"|Managing Director|President|Chair(?:man|woman)?|(?-i:C[EFOTRMPI]O|CISO)"
)
_LEADERSHIP = re.compile(
    r"\b(?:appoint(?:s|ed)?|names|named|hires|hired|welcomes|promot(?:es|ed)|joins|joined"
    rf"|steps up as|taps)\b.{{0,80}}?\b(?:{_ROLE})\b",
    re.I,
)
_ROLE_TITLE = re.compile(rf"\b(?:{_ROLE})\b")
_CAPITALISED = re.compile(r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,3}")
_LAUNCH = re.compile(
    r"\b(?:launch(?:es|ed)?|introduc(?:es|ed|ing)|unveil(?:s|ed)|debut(?:s|ed)|rolls out"
    r"|releas(?:es|ed)|announc(?:es|ed|ing) (?:the )?(?:general availability|availability"
    r"|launch|release) of|(?:is )?now (?:generally )?available)\b",
    re.I,
)
_PAGE_LEVEL = {"body", "html", "main", "[document]"}
_PRODUCT_END = re.compile(r"[,.;:!?]|\s(?:with|for|to|in|that|which|across)\s")


@dataclass(frozen=True)
class PressItem:
    title: str
    text: str
    date: datetime.date | None


def extract(page: Page) -> Found:
    if page.kind in SKIPPED_PAGES:
        return Found()
    items = [_article_item(item) for _, item in page.items_of(*ARTICLE_TYPES)]
    items += _html_items(page)
    published = find_date(page.meta("article:published_time"))
    signals: dict[str, ExtractedSignal] = {}
    for item in items[:MAX_ITEMS]:
        signal = classify(item, news_allowed=page.kind in NEWS_PAGES, default_date=published)
        if signal:
            key = signal.title.lower()
            signals[key] = _merged(signals[key], signal) if key in signals else signal
    return Found(signals=list(signals.values()))


def _merged(first: ExtractedSignal, second: ExtractedSignal) -> ExtractedSignal:
    """One story told twice on a page (its JSON-LD and its HTML): what either knows."""
    if first.kind != second.kind:
        return first
    details = {**second.details, **{k: v for k, v in first.details.items() if v}}
    if "investors" in details:
        both = first.details.get("investors", []) + second.details.get("investors", [])
        details["investors"] = list(dict.fromkeys(both))
    return replace(
        first,
        happened_on=first.happened_on or second.happened_on,
        amount=first.amount if first.amount is not None else second.amount,
        currency=first.currency or second.currency,
        details=details,
        evidence=max(first.evidence, second.evidence, key=len),
    )


def classify(
    item: PressItem, *, news_allowed: bool, default_date: datetime.date | None = None
) -> ExtractedSignal | None:
    """The one signal a press item is, funding first; None for undated chatter."""
    text = (
        item.text
        if item.title and item.text.startswith(item.title)
        else f"{item.title}. {item.text}"
    )
    title = clean(item.title or text, 300)
    date = item.date or find_date(text) or default_date
    funding = _funding(title, text, date)
    if funding:
        return funding
    leader = _LEADERSHIP.search(text)
    if leader:
        return _signal("leadership_change", title, text, date, _leadership_details(text, leader))
    launch = _LAUNCH.search(item.title or text[:300])
    if launch:
        return _signal(
            "product_launch", title, text, date, _launch_details(item.title or text, launch)
        )
    if news_allowed and date is not None and item.title:
        return _signal("news", title, text, date, {}, confidence=0.5)
    return None


def _funding(title: str, text: str, date: datetime.date | None) -> ExtractedSignal | None:
    if not (_FUNDING_VERB.search(text) and _FUNDING_WORD.search(text)):
        return None
    # The sentence that says it: "$5B market" elsewhere in the text is not the round.
    sentence = next(
        (
            s
            for s in re.split(r"(?<=[.!?])\s+", text)
            if _FUNDING_VERB.search(s) and _FUNDING_WORD.search(s)
        ),
        "",
    )
    if not sentence:
        return None
    amount, currency = find_amount(sentence)
    round_match = _ROUND.search(sentence)
    if amount is None and round_match is None:
        return None
    return ExtractedSignal(
        kind="funding",
        title=title,
        happened_on=date,
        amount=amount,
        currency=currency,
        details={
            "round": round_match.group(1).title() if round_match else "",
            "investors": find_investors(text),
        },
        # The story's opening says most; the sentence itself when it comes later.
        evidence=clean(text if text.find(sentence) < 200 else sentence, 300),
        confidence=0.85 if amount is not None else 0.7,
    )


def _signal(
    kind: str,
    title: str,
    text: str,
    date: datetime.date | None,
    details: dict,
    confidence: float = 0.7,
) -> ExtractedSignal:
    return ExtractedSignal(
        kind=kind,
        title=title,
        happened_on=date,
        amount=None,
        currency="",
        details=details,
        evidence=clean(text, 300),
        confidence=confidence,
    )


def find_amount(text: str) -> tuple[Decimal | None, str]:
    """($12,000,000, "USD") for "$12M", "$12 million", "12 million dollars", "USD 12m"."""
    match = _AMOUNT.search(text)
    if not match:
        return None, ""
    number = (match.group("num") or match.group("num2")).replace(",", "")
    unit = (match.group("unit") or match.group("unit2") or "").lower()
    try:
        value = Decimal(number).scaleb(_UNITS.get(unit, 0))
    except InvalidOperation:
        return None, ""
    symbol = (match.group("symbol") or match.group("word") or "").lower()
    return value.quantize(Decimal(1)), _CURRENCIES.get(symbol, "")


def find_investors(text: str) -> list[str]:
    names = []
    for pattern in _INVESTORS:
        for match in pattern.finditer(text):
            names += [n.strip() for n in _NAME_SPLIT.split(match.group("names"))]
    return list(
        dict.fromkeys(
            n
            for n in names
            if n[:1].isupper() and len(n.split()) <= 6 and not _NOT_INVESTOR.match(n)
        )
    )[:10]


def _leadership_details(text: str, match: re.Match[str]) -> dict:
    role = _ROLE_TITLE.search(match.group(0))
    # "Acme appoints Jane Doe as CRO" names the person after the verb; "Jane Doe joins
    # Acme as CRO" before it.
    after = _names_in(match.group(0))
    before = _names_in(text[max(0, match.start() - 80) : match.start()])
    if match.group(0).lower().startswith(("join", "steps")):
        person = before[-1] if before else ""
    else:
        person = after[0] if after else (before[-1] if before else "")
    return {"person": person, "role": role.group(0) if role else ""}


def _names_in(text: str) -> list[str]:
    """People's names in runs of capitalised words ("Sarah Kim Chief Revenue" -> "Sarah Kim")."""
    names = []
    for run in _CAPITALISED.finditer(text):
        words = run.group(0).split()
        for size in range(len(words), 1, -1):
            if looks_like_name(" ".join(words[:size])):
                names.append(" ".join(words[:size]))
                break
    return names


def _launch_details(title: str, match: re.Match[str]) -> dict:
    rest = title[match.end() :].strip()
    end = _PRODUCT_END.search(rest)
    product = rest[: end.start()] if end else rest
    return {"product": clean(product, 80)}


def _article_item(article: Item) -> PressItem:
    return PressItem(
        title=text_of(article.get("headline") or article.get("name"), 300),
        text=text_of(article.get("description") or article.get("articleBody"), MAX_ITEM_TEXT),
        date=find_date(text_of(article.get("datePublished") or article.get("dateCreated"), 40)),
    )


def _html_items(page: Page) -> list[PressItem]:
    articles = page.find("article")
    if articles:
        return [_from_article(a) for a in articles[:MAX_ITEMS]]
    headings = [h for h in page.find("h1", "h2", "h3")[:MAX_ITEMS] if not _in_chrome(h)]
    dated = bool(page.find("time"))  # most pages have no <time>: skip looking for one
    return [_from_heading(h, dated=dated) for h in headings]


def _from_article(article: Element) -> PressItem:
    heading = next(article.iterdescendants("h1", "h2", "h3", "h4"), None)
    # The body without the headline, so "Acme raises $5M led by X" ends at X and does not
    # run on into the dateline.
    in_heading = set(heading.iter()) if heading is not None else set()
    body = " ".join(
        s for s, parent, comment in strings(article) if parent not in in_heading and not comment
    )
    return PressItem(
        title=clean(text(heading, " ") if heading is not None else "", 300),
        text=clean(body, MAX_ITEM_TEXT),
        date=_time_in(article),
    )


def _from_heading(heading: Element, *, dated: bool) -> PressItem:
    following = list(
        islice((s for s in heading.itersiblings() if s.tag in ("p", "div", "time")), 2)
    )
    date = next((d for s in following if (d := _time_in(s))), None) if dated else None
    parent = heading.getparent()
    if dated and date is None and parent is not None and parent.tag not in _PAGE_LEVEL:
        date = _time_in(parent)  # a card: <div><h3>..</h3><span><time>..</time></span></div>
    return PressItem(
        title=clean(text(heading, " "), 300),
        text=" ".join(clean(text(s, " "), 800) for s in following),
        date=date,
    )


def _time_in(node: Element) -> datetime.date | None:
    tag = node if node.tag == "time" else next(node.iterdescendants("time"), None)
    if tag is None:
        return None
    return find_date(str(tag.get("datetime") or "")) or find_date(text(tag, " "))


def _in_chrome(tag: Element) -> bool:
    return any(parent.tag in ("nav", "footer") for parent in tag.iterancestors())
