"""The page's <title> and meta description: written for search engines, read by people."""

from __future__ import annotations

import re

from leads.extraction.page import Page
from leads.extraction.text import clean
from leads.extraction.types import ExtractedValue, Found

_SEPARATORS = (" | ", " – ", " — ", " - ", " · ", " :: ", ": ")
# Title parts that name the page rather than the company.
_GENERIC = {
    "home",
    "homepage",
    "home page",
    "welcome",
    "about",
    "about us",
    "blog",
    "news",
    "newsroom",
    "careers",
    "jobs",
    "team",
    "our team",
    "leadership",
    "contact",
    "contact us",
    "press",
}
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def extract(page: Page) -> Found:
    values = []
    name = brand(page.title, page.domain, trust_first=page.kind == "home")
    if name:
        values.append(ExtractedValue("name", name, f"<title>{page.title}</title>", 0.5, "meta"))
    description = page.meta("description")
    if description:
        evidence = f'<meta name="description" content="{clean(description, 250)}">'
        values.append(ExtractedValue("description", description, evidence, 0.6, "meta"))
    return Found(values=values)


def brand(title: str, domain: str, *, trust_first: bool) -> str:
    """The part of a title that names the company: "Home | Acme Robotics" -> "Acme Robotics".

    A part that matches the site's domain wins. On the home page the first part that is
    not generic will do; inner pages are titled after themselves ("Leadership"), so there
    nothing else is taken.
    """
    stem = _NOT_ALNUM.sub("", domain.split(".")[0].lower())
    parts = [p.strip() for p in _split(title) if p.strip().lower() not in _GENERIC]
    squashed = {part: _NOT_ALNUM.sub("", part.lower()) for part in parts}
    naming = [
        p for p in parts if stem and squashed[p] and (stem in squashed[p] or squashed[p] in stem)
    ]
    if naming:
        # "Acme raises $5M | Acme": the part closest to the domain is the name alone.
        return min(naming, key=lambda p: abs(len(squashed[p]) - len(stem)))[:200]
    return parts[0][:200] if parts and trust_first else ""


def _split(title: str) -> list[str]:
    for separator in _SEPARATORS:
        if separator in title:
            return [part for part in title.split(separator) if part.strip()]
    return [title] if title.strip() else []
