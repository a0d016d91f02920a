"""Which same-site pages are worth reading next, and what kind of page this one is."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from leads.extraction.page import Page, clean

KIND_WORDS: dict[str, tuple[str, ...]] = {
    "team": ("team", "people", "leadership", "management", "founders", "our-team"),
    "careers": (
        "careers",
        "jobs",
        "join-us",
        "join",
        "work-with-us",
        "hiring",
        "positions",
        "openings",
        "vacancies",
    ),
    "press": ("press", "news", "newsroom", "media", "announcements", "press-releases"),
    "blog": ("blog", "insights", "stories", "articles", "updates"),
    "about": ("about", "about-us", "company", "who-we-are", "our-story", "mission"),
    "contact": ("contact", "contact-us"),
}
_ANCHOR_WORDS = {
    kind: re.compile(r"\b(?:" + "|".join(w.replace("-", "[ -]") for w in words) + r")\b", re.I)
    for kind, words in KIND_WORDS.items()
}
MAX_LINKS_PER_KIND = 10


def kind_for_url(url: str) -> str | None:
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    for segment in segments:
        stem = segment.rsplit(".", 1)[0]
        for kind, words in KIND_WORDS.items():
            if stem in words:
                return kind
    return None


def page_kind(page: Page) -> str:
    path = urlsplit(page.url).path
    if path in ("", "/", "/index.html", "/index.htm"):
        return "home"
    return kind_for_url(page.url) or "other"


def extract_links(page: Page) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {kind: [] for kind in KIND_WORDS}
    for anchor in page.anchors:
        url = page.absolute(anchor["href"])
        if not url.startswith(("http://", "https://")) or not page.same_site(url):
            continue
        kind = kind_for_url(url) or _kind_from_text(clean(anchor.get_text(" "), 60))
        if (
            kind
            and url not in links[kind]
            and url != page.url
            and len(links[kind]) < MAX_LINKS_PER_KIND
        ):
            links[kind].append(url)
    return {kind: urls for kind, urls in links.items() if urls}


def _kind_from_text(text: str) -> str | None:
    return next((kind for kind, pattern in _ANCHOR_WORDS.items() if pattern.search(text)), None)


def sitemap_urls(xml: bytes | str, *, base_url: str) -> list[str]:
    """Page URLs listed in a sitemap (or sitemap index); junk yields what could be read."""
    data = xml.encode() if isinstance(xml, str) else xml
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    urls = [clean(loc.text, 2000) for loc in root.iter("{*}loc") if loc.text]
    site = urlsplit(base_url).netloc
    return [
        u
        for u in dict.fromkeys(urls)
        if u.startswith(("http://", "https://")) and urlsplit(u).netloc == site
    ][:500]
