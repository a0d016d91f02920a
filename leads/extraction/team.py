"""People on team and about pages: name, title and LinkedIn, from person cards and from
Person items in structured data."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import islice

from nameparser import HumanName

from leads.extraction.contacts import valid_email
from leads.extraction.items import ORGANIZATION_TYPES, Item, as_list, text_of
from leads.extraction.page import Page
from leads.extraction.text import clean
from leads.extraction.tree import Element, classes, following, is_element, own_strings
from leads.extraction.tree import text as text_of_tag
from leads.extraction.types import ExtractedPerson, Found

_TITLE_WORD = re.compile(
    r"\b(?:CEO|CTO|CFO|COO|CRO|CMO|CPO|CIO|CISO|founder|co-?founder|president|chief|VP|SVP|EVP"
    r"|vice president|head|director|manager|lead|partner|owner|engineer|designer|officer"
    r"|chair(?:man|woman|person)?|principal|counsel|scientist|architect|executive|advisor"
    r"|board|investor|marketer|recruiter|analyst|specialist|representative|associate)\b",
    re.I,
)
_NAME_WORD = re.compile(
    r"^(?:[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'’.-]*|[A-Z]\.|(?:van|von|de|da|del|der|di|la|le|bin|al))$"
)
_SPLIT = re.compile(r"\s*(?:,|–|—|\s-\s|\||·)\s*")
# Capitalised headings that are not people ("Open Positions", "Meet The Team").
_NOT_NAME_WORDS = frozenset(
    {
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
        "investors",
        "board",
        "advisors",
        "office",
        "offices",
        "follow",
        "linkedin",
        "twitter",
        "email",
        "view",
        "all",
        "see",
        "story",
        "people",
    }
)
_HONORIFIC = re.compile(r"\b(?:Dr|Prof|Mr|Mrs|Ms|Mx|PhD|MD|MBA|Jr|Sr)\b")
_CARD_TAGS = ("h2", "h3", "h4", "h5", "strong", "b", "figcaption")
_NAME_CLASS = re.compile(r"\b(?:name|person-name|member-name|team-name)\b", re.I)
_CHROME = {"nav", "footer"}
_LINKEDIN_PERSON = "linkedin.com/in/"
PEOPLE_PAGES = {"team", "about"}
MAX_PEOPLE = 50
MAX_CARDS = 200  # a "team" page with thousands of cards is a directory, not a team


@dataclass
class _Card:
    name: str
    title: str
    heading: Element


def looks_like_name(text: str) -> bool:
    """2 to 4 capitalised words that are not a heading or a job title."""
    words = text.split()
    return (
        2 <= len(words) <= 4
        and len(text) <= 60
        and all(_NAME_WORD.match(w) for w in words)
        and any(len(w.strip(".")) > 1 for w in words)
        and not {w.lower().strip(".,") for w in words} & _NOT_NAME_WORDS
        and not _TITLE_WORD.search(text)
    )


def extract(page: Page) -> Found:
    people: dict[str, ExtractedPerson] = {}
    for person in _structured_people(page):
        people.setdefault(person.name.lower(), person)
    if page.kind in PEOPLE_PAGES:
        for person in _card_people(page):
            people.setdefault(person.name.lower(), person)
    return Found(people=list(people.values())[:MAX_PEOPLE])


def _structured_people(page: Page) -> list[ExtractedPerson]:
    found = []
    for source, item in page.items_of("person"):
        # Elsewhere a lone Person is usually an article's author: kept only with a title.
        if page.kind in PEOPLE_PAGES or item.get("jobTitle"):
            found.append(_from_item(item, source, ""))
    for source, org in page.items_of(*ORGANIZATION_TYPES):
        for key, default_title in (("founder", "Founder"), ("employee", ""), ("member", "")):
            for item in as_list(org.get(key)):
                if isinstance(item, dict):
                    found.append(_from_item(item, source, default_title))
    return [p for p in found if p.name]


def _from_item(item: Item, source: str, default_title: str) -> ExtractedPerson:
    name = _clean_name(text_of(item.get("name"), 100))
    title = text_of(item.get("jobTitle"), 150) or default_title
    links = [str(u) for u in as_list(item.get("sameAs")) + as_list(item.get("url"))]
    return ExtractedPerson(
        name=name if looks_like_name(name) else "",
        title=title,
        linkedin_url=next((_linkedin(u) for u in links if _LINKEDIN_PERSON in u), ""),
        email=valid_email(text_of(item.get("email"), 254).removeprefix("mailto:")),
        evidence=clean(f"{source} Person: {name}, {title}"),
    )


def _card_people(page: Page) -> list[ExtractedPerson]:
    cards: list[_Card] = []
    for tag in _candidates(page):
        card = _card(tag)
        if card:
            cards.append(card)
            if len(cards) >= MAX_CARDS:
                break
    # Elements are safe set members: the page's index holds every one, so lxml keeps one
    # Python object per element for the page's life.
    headings = {card.heading for card in cards}
    per_box = Counter(card.heading.getparent() for card in cards)
    return [_person(card, headings, alone=per_box[card.heading.getparent()] == 1) for card in cards]


def _candidates(page: Page) -> list[Element]:
    return [
        tag
        for tag in page.elements
        if (tag.tag in _CARD_TAGS or _NAME_CLASS.search(classes(tag)))
        and not any(p.tag in _CHROME for p in tag.iterancestors())
    ]


def _card(tag: Element) -> _Card | None:
    text = clean(text_of_tag(tag, " "), 200)
    if looks_like_name(_clean_name(text)):
        title = _title_after(tag)
        return _Card(_clean_name(text), title, tag) if title else None
    if not _TITLE_WORD.search(text):
        return None
    # "Ruth Adeyemi, CEO" in one element, or a name with the title in a <small> inside.
    inner = next(tag.iterdescendants("small", "span", "em", "i", "br"), None)
    own = clean(" ".join(own_strings(tag)), 100)
    if inner is not None and looks_like_name(own):
        title = clean(text.removeprefix(own), 150)
        return _Card(own, title, tag) if _TITLE_WORD.search(title) else None
    parts = _SPLIT.split(text, maxsplit=1)
    if len(parts) == 2 and looks_like_name(parts[0]) and _TITLE_WORD.search(parts[1]):
        return _Card(_clean_name(parts[0]), clean(parts[1], 150), tag)
    return None


def _title_after(tag: Element) -> str:
    siblings = (s for s in tag.itersiblings() if is_element(s))
    for sibling in islice(siblings, 3):
        text = clean(text_of_tag(sibling, " "), 150)
        if text and _TITLE_WORD.search(text) and len(text.split()) <= 12:
            return text
    return ""


def _person(card: _Card, headings: set[Element], *, alone: bool) -> ExtractedPerson:
    """`alone`: the card's box holds one person, so its links are that person's; in a
    flat list a link belongs to the person whose heading comes before it."""
    parent = card.heading.getparent()
    box = parent if parent is not None else card.heading
    if alone:
        links = list(islice((a for a in box.iterdescendants("a") if a.get("href") is not None), 20))
    else:
        links = _links_until_next(card, headings)
    hrefs = [str(a.get("href")) for a in links]
    mail = next((h[7:].split("?")[0] for h in hrefs if h.lower().startswith("mailto:")), "")
    return ExtractedPerson(
        name=card.name,
        title=card.title,
        linkedin_url=next((_linkedin(h) for h in hrefs if _LINKEDIN_PERSON in h), ""),
        email=valid_email(mail),
        evidence=clean(text_of_tag(box, " ") if alone else f"{card.name}, {card.title}", 300),
    )


def _links_until_next(card: _Card, headings: set[Element]) -> list[Element]:
    links = []
    for element in islice(following(card.heading), 30):
        if element in headings:
            break
        if element.tag == "a" and element.get("href"):
            links.append(element)
    return links


def _linkedin(url: str) -> str:
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return "https://www." + path[path.index("linkedin.com") :] if "linkedin.com" in path else ""


def _clean_name(text: str) -> str:
    """Honorifics and suffixes off ("Dr. Jane Doe, PhD" -> "Jane Doe")."""
    if not _HONORIFIC.search(text):
        return text
    name = HumanName(text)
    return " ".join(p for p in (name.first, name.middle, name.last) if p) or text
