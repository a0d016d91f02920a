"""Extraction of company facts from web pages, each value with its evidence.

`extract_page` parses a page once with lxml, walks libxml2's tree once (lxml's iterwalk) to
index its tags and sort its text into visible and hidden, then runs every extractor over
that shared `Page`. Each extractor is `extract(page: Page) -> Found` in its own module:

    structured  JSON-LD / microdata Organization, OpenGraph      (most trusted)
    meta        <title>, meta description
    contacts    emails and phone numbers
    socials     the company's profiles
    tech        technology fingerprints
    careers     open roles and the hiring signal
    team        people with their titles
    press       funding, launches, leadership changes, news

`links.extract(page)` lists the same-site pages worth reading next (crawl guidance, not
facts). The shared parts: `page` (the parsed page and its index), `tree` (readings of
lxml's tree that match what BeautifulSoup gave, so output stayed the same), `items`
(JSON-LD and microdata as dicts), `kinds` (what kind of page a URL names), `text`
(snippets, dates).

BeautifulSoup is no longer on this path: its tree cost 44% of extraction (a Python object
per node libxml2 had already built). It stays where it does better than lxml: guessing a
page's encoding from its bytes (`UnicodeDammit` in `sdr.fetch.decode_html`).

Every URL a page yields is resolved once per distinct href and passes
`sdr.links.outside_url`, the one check for URLs from outside (the fetcher applies it to
every URL it follows too); a link that cannot be read ("http://[ccpa-preferences]") is
skipped and named in the page's warnings, so no page raises.

JSON-LD is parsed here rather than by extruct, so one broken block is skipped with a
warning while the others are read; extruct (checked to work with lxml 6) reads microdata;
OpenGraph is read from the page's meta tags.

Scraped text is data: instruction-like content is flagged and never becomes a value
(see `safety`).
"""

from __future__ import annotations

from collections.abc import Callable

from leads.extraction import (
    careers,
    contacts,
    links,
    meta,
    press,
    safety,
    socials,
    structured,
    team,
    tech,
)
from leads.extraction.links import sitemap_urls
from leads.extraction.page import Page
from leads.extraction.safety import looks_like_instructions
from leads.extraction.types import (
    ExtractedPerson,
    ExtractedSignal,
    ExtractedValue,
    Found,
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

EXTRACTORS: tuple[Callable[[Page], Found], ...] = (
    structured.extract,
    meta.extract,
    contacts.extract,
    socials.extract,
    tech.extract,
    careers.extract,
    team.extract,
    press.extract,
)


def extract_page(html: str, *, url: str) -> PageExtraction:
    """Every fact, signal and person one page gives, with evidence; never raises on bad HTML."""
    page = Page(html, url)
    found = Found()
    for extractor in EXTRACTORS:
        found.add(extractor(page))
    found = safety.guard(page, found)
    followed = links.extract(page)
    page.link_warnings()
    return PageExtraction(
        url=url,
        page_kind=page.kind,
        values=found.values,
        signals=found.signals,
        people=found.people,
        links=followed,
        warnings=page.warnings,
    )
