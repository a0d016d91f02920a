"""People on team and about pages: name, title, LinkedIn, from cards or structured data."""

from __future__ import annotations

import re

from bs4 import Tag

from leads.extraction.page import Page, clean
from leads.extraction.types import ExtractedPerson

_TITLE_WORD = re.compile(
    r"\b(?:CEO|CTO|CFO|COO|CRO|CMO|CPO|CIO|CISO|founder|co-founder|cofounder|president|"
    r"chief|VP|vice president|head|director|manager|lead|partner|owner|engineer|designer|"
    r"officer|chair|chairman|chairwoman|principal|counsel|scientist|architect|executive|"
    r"advisor|board)\b",
    re.I,
)
_NAME_WORD = re.compile(r"^[A-ZÀ-Ý][A-Za-zÀ-ÿ'’-]+\.?$|^[A-Z]\.$|^(?:van|von|de|da|del|der|la|le)$")
_SPLIT = re.compile(r"\s*(?:,|–|—|\s-\s|\|)\s*")
MAX_PEOPLE = 50
# Capitalised headings that are not people ("Open Positions", "Meet The Team").
_NOT_NAME_WORDS = {
    "open",
    "positions",
    "our",
    "the",
    "about",
    "contact",
    "team",
    "news",
    "careers",
    "jobs",
    "join",
    "us",
    "meet",
    "leadership",
    "company",
    "read",
    "more",
    "learn",
    "home",
    "privacy",
    "policy",
    "terms",
    "blog",
    "press",
    "customers",
    "pricing",
    "product",
    "services",
    "get",
    "started",
    "sign",
    "in",
    "up",
    "book",
    "demo",
    "case",
    "studies",
    "values",
    "mission",
}


def looks_like_name(text: str) -> bool:
    words = text.split()
    return (
        2 <= len(words) <= 4
        and all(_NAME_WORD.match(w) for w in words)
        and all(any(c.islower() for c in w) or len(w) <= 2 for w in words)
        and not {w.lower() for w in words} & _NOT_NAME_WORDS
        and not _TITLE_WORD.search(text)
    )


def extract_people(page: Page, person_items: list[dict], page_kind: str) -> list[ExtractedPerson]:
    people: dict[str, ExtractedPerson] = {}
    for item in person_items:
        person = _from_item(item)
        if person:
            people.setdefault(person.name.lower(), person)
    if page_kind in {"team", "about"}:
        for person in _from_cards(page):
            people.setdefault(person.name.lower(), person)
    return list(people.values())[:MAX_PEOPLE]


def _from_item(item: dict) -> ExtractedPerson | None:
    name = clean(str(item.get("name") or ""), 100)
    if not looks_like_name(name):
        return None
    same_as = item.get("sameAs") or []
    links = same_as if isinstance(same_as, list) else [same_as]
    linkedin = next((str(u) for u in links if "linkedin.com/in/" in str(u)), "")
    return ExtractedPerson(
        name=name,
        title=clean(str(item.get("jobTitle") or ""), 150),
        linkedin_url=linkedin,
        email=str(item.get("email") or "").removeprefix("mailto:"),
        evidence=f"Person: {name}, {clean(str(item.get('jobTitle') or ''), 150)}",
    )


def _from_cards(page: Page) -> list[ExtractedPerson]:
    found = []
    for heading in page.soup.find_all(["h2", "h3", "h4", "h5", "strong", "b", "figcaption"]):
        person = _card_person(heading)
        if person:
            found.append(person)
    return found


def _card_person(heading: Tag) -> ExtractedPerson | None:
    text = clean(heading.get_text(" "), 200)
    if heading.name == "figcaption" or not looks_like_name(text):
        parts = _SPLIT.split(text, maxsplit=1)
        if len(parts) == 2 and looks_like_name(parts[0]) and _TITLE_WORD.search(parts[1]):
            return _person(parts[0], parts[1], heading)
        return None
    title = _title_after(heading)
    return _person(text, title, heading) if title else None


def _title_after(heading: Tag) -> str:
    for sibling in heading.find_next_siblings(limit=3):
        text = clean(sibling.get_text(" "), 150)
        if text and _TITLE_WORD.search(text) and len(text.split()) <= 12:
            return text
    return ""


def _person(name: str, title: str, anchor: Tag) -> ExtractedPerson:
    card = anchor.parent if anchor.parent is not None else anchor
    linkedin = ""
    for link in card.find_all("a", href=True, limit=10):
        if "linkedin.com/in/" in link["href"]:
            linkedin = link["href"].split("?", 1)[0]
            break
    return ExtractedPerson(
        name=clean(name, 100),
        title=clean(title, 150),
        linkedin_url=linkedin,
        email="",
        evidence=clean(card.get_text(" "), 300),
    )
