"""Extraction of company facts from web pages, each value with its evidence.

`extract_page` parses a page once (BeautifulSoup over lxml) and runs every extractor over
it: structured data, meta tags, contacts, socials, tech fingerprints, careers, team, and
press. Scraped text is data: values that read like instructions to a model are dropped.
"""

from __future__ import annotations

from leads.extraction.careers import extract_careers
from leads.extraction.contacts import extract_contacts
from leads.extraction.links import extract_links, page_kind, sitemap_urls
from leads.extraction.page import Page
from leads.extraction.people import extract_people
from leads.extraction.press import extract_press
from leads.extraction.safety import looks_like_instructions
from leads.extraction.socials import extract_socials
from leads.extraction.structured import (
    extract_meta,
    extract_structured,
    json_ld_items,
    microdata_items,
    types_of,
)
from leads.extraction.tech import extract_tech
from leads.extraction.types import (
    ExtractedPerson,
    ExtractedSignal,
    ExtractedValue,
    PageExtraction,
)

__all__ = [
    "ExtractedPerson",
    "ExtractedSignal",
    "ExtractedValue",
    "PageExtraction",
    "extract_page",
    "looks_like_instructions",
    "sitemap_urls",
]

ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "pressrelease", "report"}
# Free text a model will read later; instruction-like values never get that far.
GUARDED_FIELDS = {"name", "description", "industry", "open_role", "location"}


def extract_page(html: str, *, url: str) -> PageExtraction:
    page = Page(html or "", url)
    kind = page_kind(page)
    items = [("jsonld", i) for i in json_ld_items(page)]
    items += [("microdata", i) for i in microdata_items(page)]
    by_type = _by_type(items)

    values = extract_structured(page, items) + extract_meta(page, kind)
    values += extract_contacts(page, kind) + extract_socials(page) + extract_tech(page)
    role_values, hiring = extract_careers(page, by_type["jobposting"], kind)
    values += role_values
    signals = hiring
    if kind not in {"careers", "team", "contact"}:
        signals += extract_press(page, by_type["article"], kind)
    people = extract_people(page, by_type["person"], kind)

    # The raw markup covers visible and hidden text alike.
    if looks_like_instructions(page.html[:100_000]):
        page.warnings.append(
            "page text contains instruction-like content; it is kept as data "
            "and never used in prompts"
        )
    values = [
        v
        for v in values
        if not (v.field in GUARDED_FIELDS and looks_like_instructions(str(v.value)))
    ]
    signals = [s for s in signals if not looks_like_instructions(s.title)]
    return PageExtraction(
        url=url,
        page_kind=kind,
        values=values,
        signals=signals,
        people=people,
        links=extract_links(page),
        warnings=page.warnings,
    )


def _by_type(items: list[tuple[str, dict]]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {"jobposting": [], "article": [], "person": []}
    for _, item in items:
        kinds = types_of(item)
        if "jobposting" in kinds:
            grouped["jobposting"].append(item)
        if kinds & ARTICLE_TYPES:
            grouped["article"].append(item)
        if "person" in kinds:
            grouped["person"].append(item)
    return grouped
