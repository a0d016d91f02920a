"""Dated events in press releases, news and blog posts: funding, launches, new leaders."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from bs4 import Tag

from leads.extraction.page import Page, clean
from leads.extraction.types import ExtractedSignal

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MONTH = r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"  # noqa: E501
_DATE_RES = [
    re.compile(r"\b(?P<year>20\d\d)-(?P<m>\d\d)-(?P<day>\d\d)\b"),
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>20\d\d)\b", re.I),
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+(?P<year>20\d\d)\b", re.I),
]
_AMOUNT = re.compile(
    r"(?P<symbol>[$€£])\s?(?P<num>\d+(?:[.,]\d+)*)\s?(?P<unit>million|billion|thousand|mn|bn|[KMB])?\b"
    r"|(?P<num2>\d+(?:[.,]\d+)?)\s?(?P<unit2>million|billion|[MB])\s+(?P<word>dollars|euros|pounds|USD|EUR|GBP)\b",
    re.I,
)
_FUNDING_VERB = re.compile(
    r"\b(?:rais(?:e|es|ed|ing)|clos(?:e|es|ed)|secur(?:e|es|ed)|"
    r"land(?:s|ed)|complet(?:e|es|ed)|announc(?:e|es|ed))\b",
    re.I,
)
_FUNDING_WORD = re.compile(r"\b(?:funding|round|investment|financing|seed|series [a-h])\b", re.I)
_ROUND = re.compile(r"\b(pre-seed|seed|series [a-h]|growth|bridge|venture)\b", re.I)
_LED_BY = re.compile(r"\bled by ([A-Z][\w&.' -]{1,60}?)(?=[,.;]| and | with |$)")
_PARTICIPATION = re.compile(r"participation (?:from|by) ([^.;]{3,200})", re.I)
_LAUNCH = re.compile(
    r"\b(?:launch(?:es|ed)?|introduc(?:es|ed)|unveil(?:s|ed)|"
    r"announc(?:es|ed) (?:the )?(?:general availability|availability|release))\b",
    re.I,
)
_LEADERSHIP = re.compile(
    r"\b(?:appoint(?:s|ed)|names|named|hires|welcomes|joins as|promoted to|steps up as)\b"
    r".{0,80}?\b(?:CEO|CTO|CFO|COO|CRO|CMO|CPO|Chief [A-Z][a-z]+ Officer|VP|Vice President|"
    r"Head of|President|General Manager)\b",
    re.I,
)
_UNITS = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "million": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_CURRENCY = {
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
    "dollars": "USD",
    "euros": "EUR",
    "pounds": "GBP",
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
}
MAX_ITEMS = 30


def extract_press(page: Page, articles: list[dict], page_kind: str) -> list[ExtractedSignal]:
    items = [_article_item(a) for a in articles] + _html_items(page)
    signals: dict[str, ExtractedSignal] = {}
    for title, text, date in items[:MAX_ITEMS]:
        signal = classify(title, text, date, news_allowed=page_kind in {"press", "blog"})
        if signal and signal.title.lower() not in signals:
            signals[signal.title.lower()] = signal
    return list(signals.values())


def classify(
    title: str, text: str, date: datetime.date | None, *, news_allowed: bool
) -> ExtractedSignal | None:
    combined = text if title and text.startswith(title) else f"{title}. {text}"
    date = date or find_date(combined)
    evidence = clean(combined, 300)
    if _FUNDING_VERB.search(combined) and _FUNDING_WORD.search(combined):
        amount, currency = find_amount(combined)
        round_match = _ROUND.search(combined)
        if amount is not None or round_match:
            return ExtractedSignal(
                kind="funding",
                title=clean(title or evidence, 300),
                happened_on=date,
                amount=amount,
                currency=currency,
                details={
                    "round": round_match.group(1).title() if round_match else "",
                    "investors": find_investors(combined),
                },
                evidence=evidence,
                confidence=0.85 if amount is not None else 0.7,
            )
    if _LEADERSHIP.search(combined):
        return _simple("leadership_change", title, evidence, date, 0.7)
    if _LAUNCH.search(title or combined[:300]):
        return _simple("product_launch", title, evidence, date, 0.7)
    if news_allowed and date is not None and title:
        return _simple("news", title, evidence, date, 0.5)
    return None


def _simple(kind: str, title: str, evidence: str, date, confidence: float) -> ExtractedSignal:
    return ExtractedSignal(
        kind=kind,
        title=clean(title or evidence, 300),
        happened_on=date,
        amount=None,
        currency="",
        details={},
        evidence=evidence,
        confidence=confidence,
    )


def find_amount(text: str) -> tuple[Decimal | None, str]:
    match = _AMOUNT.search(text)
    if not match:
        return None, ""
    number = (match.group("num") or match.group("num2") or "").replace(",", "")
    unit = (match.group("unit") or match.group("unit2") or "").lower()
    try:
        value = Decimal(number) * _UNITS.get(unit, 1)
    except InvalidOperation:
        return None, ""
    symbol = (match.group("symbol") or match.group("word") or "").lower()
    return value.quantize(Decimal(1)), _CURRENCY.get(symbol, "")


def find_investors(text: str) -> list[str]:
    names = [m.group(1).strip() for m in _LED_BY.finditer(text)]
    for match in _PARTICIPATION.finditer(text):
        names += [n.strip() for n in re.split(r",\s*|\s+and\s+", match.group(1)) if n.strip()]
    return list(dict.fromkeys(n for n in names if n and n[0].isupper()))[:10]


def find_date(text: str) -> datetime.date | None:
    for pattern in _DATE_RES:
        match = pattern.search(text)
        if not match:
            continue
        parts = match.groupdict()
        month = int(parts["m"]) if parts.get("m") else _MONTHS[parts["month"][:3].lower()]
        try:
            return datetime.date(int(parts["year"]), month, int(parts["day"]))
        except ValueError:
            continue
    return None


def _article_item(article: dict) -> tuple[str, str, datetime.date | None]:
    title = clean(str(article.get("headline") or article.get("name") or ""), 300)
    text = clean(str(article.get("description") or article.get("articleBody") or ""), 1500)
    date = find_date(str(article.get("datePublished") or ""))
    return title, text, date


def _html_items(page: Page) -> list[tuple[str, str, datetime.date | None]]:
    items = []
    containers = page.soup.find_all("article") or page.soup.find_all(["h1", "h2", "h3"])
    for node in containers[:MAX_ITEMS]:
        if node.name == "article":
            heading = node.find(["h1", "h2", "h3", "h4"])
            title = clean(heading.get_text(" ") if heading else "", 300)
            text = clean(node.get_text(" "), 1500)
            items.append((title, text, _time_in(node)))
        else:
            text = " ".join(
                clean(s.get_text(" "), 800) for s in node.find_next_siblings(["p", "div"], limit=2)
            )
            items.append((clean(node.get_text(" "), 300), text, _time_in(node.parent)))
    return items


def _time_in(node: Tag | None) -> datetime.date | None:
    tag = node.find("time") if node is not None else None
    if tag is None:
        return None
    return find_date(tag.get("datetime", "") or "") or find_date(tag.get_text(" "))
