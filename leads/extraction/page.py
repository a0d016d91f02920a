"""One parsed page, shared by every extractor: parsed once, walked once, read many times."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cached_property
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import phonenumbers
from lxml import etree

from leads.extraction.items import (
    ORGANIZATION_TYPES,
    Item,
    json_ld_items,
    microdata_items,
    text_of,
    types_of,
)
from leads.extraction.kinds import is_home, kind_for_text, kind_for_url
from leads.extraction.text import clean
from leads.extraction.tree import Element, parse, squash, text
from sdr.domains import registrable_domain
from sdr.links import outside_url

# The fetcher stops at 2 MB by default; past this a page is read as its first and last
# parts (head and footer carry most facts), so 5 MB of generated markup stays fast.
MAX_HTML = 2_000_000
HEAD_PART = 1_500_000
# Regexes scan at most this much visible text: more than any real page has, and the cap
# keeps the cost of a pathological page bounded.
MAX_TEXT = 200_000
MAX_HIDDEN_TEXT = 50_000

VISIBLE, HIDDEN, NOT_TEXT = 0, 1, 2
# Never text a visitor reads; still walked, so their tags (meta, script, link) are indexed.
_NOT_TEXT_TAGS = {"script", "style", "head", "title", "svg", "math", "iframe", "object", "canvas"}
# Text a visitor does not see but a model reading the raw page would.
_HIDDEN_TAGS = {"template", "noscript"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_ATS_EMBED = re.compile(r"greenhouse\.io|lever\.co|ashbyhq\.com|workable\.com|bamboohr\.com", re.I)
_WALK_EVENTS = ("start", "end", "comment", "pi")
_PRESERVE = frozenset({"pre", "textarea"})
_NOT_WEB = ("javascript:", "data:", "mailto:", "tel:")
# Links a page may name in its warnings; the rest are counted, so a page of 10,000 broken
# links does not store 10,000 warnings.
MAX_LINK_WARNINGS = 5
_EMPTY_URL = SplitResult("", "", "", "", "")


def split_url(url: str) -> SplitResult:
    """urlsplit that never raises: "http://[ccpa-preferences]" (a real page's link) makes
    urlsplit raise ValueError; it splits to nothing here."""
    try:
        return urlsplit(url)
    except ValueError:
        return _EMPTY_URL


class Page:
    """A page's tree plus what every extractor needs from it, computed once.

    `tags` indexes every element by name in document order, so extractors look tags up
    instead of each walking the whole tree again.
    """

    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self.warnings: list[str] = []
        self.html = self._capped(html or "")
        try:
            self.root = parse(self.html)
        except UnicodeEncodeError:  # lone surrogates ("\ud800") that libxml2 cannot take
            self.html = self.html.encode("utf-8", "replace").decode("utf-8")
            self.warnings.append("replaced characters that are not valid Unicode")
            self.root = parse(self.html)
        self.elements: list[Element] = []
        self.tags: dict[str, list[Element]] = defaultdict(list)
        self.ids: set[str] = set()
        # Pages repeat their links (menus, footers, "Read more"): each href is resolved
        # and vetted once.
        self._joined: dict[str, str] = {}
        self._bad_links: list[str] = []
        # What an extractor computed that another one reads too (the tech markers).
        self.memo: dict[str, Any] = {}
        visible, hidden = self._walk()
        self.text = clean(" ".join(visible), MAX_TEXT)
        self.hidden_text = clean(" ".join(hidden), MAX_HIDDEN_TEXT)

    def _capped(self, html: str) -> str:
        if len(html) <= MAX_HTML:
            return html
        # Cut where a tag starts, so neither part begins inside one.
        head_end = html.rfind("<", 0, HEAD_PART)
        tail_start = html.find("<", len(html) - (MAX_HTML - HEAD_PART))
        head_end = head_end if head_end > 0 else HEAD_PART
        tail_start = tail_start if tail_start > 0 else len(html) - (MAX_HTML - HEAD_PART)
        self.warnings.append(
            f"truncated: read the first {head_end:,} and the last {len(html) - tail_start:,} "
            f"characters of a {len(html):,}-character page"
        )
        return html[:head_end] + html[tail_start:]

    def _walk(self) -> tuple[list[str], list[str]]:
        """One pass over the tree: index the tags, and sort the text into what a visitor
        sees and what is hidden (display:none, aria-hidden, <template>, ...).

        Linear in the page: each element is visited once and each string appended once
        (a page of 20,000 strings costs ten times one of 2,000; tested)."""
        texts: tuple[list[str], list[str]] = ([], [])
        sizes = [0, 0]
        limits = (MAX_TEXT, MAX_HIDDEN_TEXT)

        def add(string: str | None, state: int, keep: bool) -> None:
            if string and state != NOT_TEXT and sizes[state] < limits[state]:
                string = squash(string, keep)
                texts[state].append(string)
                sizes[state] += len(string)

        # lxml's own walk (in C) gives each element's start and end, and each comment or
        # processing instruction, in document order; a node's tail belongs to its parent.
        states, keeps = [VISIBLE], [False]
        for event, node in etree.iterwalk(self.root, events=_WALK_EVENTS):
            if event == "start":
                state = max(states[-1], self._index(node))
                keep = keeps[-1] or node.tag in _PRESERVE
                states.append(state)
                keeps.append(keep)
                add(node.text, state, keep)
            elif event == "end":
                states.pop()
                keeps.pop()
                if len(states) > 1:  # not the root's tail, which BeautifulSoup did not read
                    add(node.tail, states[-1], keeps[-1])
            else:  # a comment or processing instruction: its tail is text
                add(node.tail, states[-1], keeps[-1])
        if sizes[VISIBLE] >= MAX_TEXT:
            self.warnings.append(f"truncated: only the first {MAX_TEXT:,} characters of text read")
        return texts

    def _index(self, tag: Element) -> int:
        self.elements.append(tag)
        self.tags[tag.tag].append(tag)
        attrs = tag.attrib
        if "id" in attrs:
            self.ids.add(str(attrs["id"]))
        if tag.tag in _NOT_TEXT_TAGS:
            return NOT_TEXT
        if (
            tag.tag in _HIDDEN_TAGS
            or "hidden" in attrs
            or attrs.get("aria-hidden") == "true"
            or ("style" in attrs and _HIDDEN_STYLE.search(str(attrs["style"])))
        ):
            return HIDDEN
        return VISIBLE

    def find(self, *names: str) -> list[Element]:
        """Tags with any of these names, in document order, from the index."""
        if len(names) == 1:
            return self.tags.get(names[0], [])
        wanted = set(names)
        return [tag for tag in self.elements if tag.tag in wanted]

    @cached_property
    def anchors(self) -> list[Element]:
        return [a for a in self.find("a") if a.get("href")]

    @cached_property
    def outlinks(self) -> list[tuple[Element, str]]:
        """(anchor, absolute http(s) URL) for every web link, resolved once for all readers."""
        resolved = ((anchor, self.absolute(anchor.get("href"))) for anchor in self.anchors)
        return [(anchor, url) for anchor, url in resolved if url]

    @cached_property
    def metas(self) -> dict[str, str]:
        """<meta name|property=... content=...>, lowercased names, first one wins."""
        found: dict[str, str] = {}
        for tag in self.find("meta"):
            key = str(tag.get("property") or tag.get("name") or "").strip().lower()
            if key and tag.get("content") and key not in found:
                found[key] = clean(str(tag.get("content")), 2000)
        return found

    def meta(self, *names: str) -> str:
        return next((self.metas[n] for n in names if self.metas.get(n)), "")

    @cached_property
    def title(self) -> str:
        # An inline <svg> has <title>s of its own ("Close menu"); they do not name the page.
        title = next(
            (t for t in self.find("title") if not any(a.tag == "svg" for a in t.iterancestors())),
            None,
        )
        return clean(text(title), 300) if title is not None else ""

    @cached_property
    def items(self) -> list[tuple[str, Item]]:
        """JSON-LD and microdata items, each with the extractor name that read it."""
        found = [("jsonld", i) for i in json_ld_items(self.find("script"), self.warnings)]
        found += [("microdata", i) for i in microdata_items(self.html, self.url, self.warnings)]
        return found

    def items_of(self, *kinds: str) -> list[tuple[str, Item]]:
        wanted = set(kinds)
        return [(source, item) for source, item in self.items if types_of(item) & wanted]

    @cached_property
    def kind(self) -> str:
        """home | about | team | careers | press | blog | contact | other, from the URL
        first, then from what the page holds."""
        parts = split_url(self.url)
        # A saved file's directories say nothing about the page; its name does.
        path = parts.path.rsplit("/", 1)[-1] if parts.scheme == "file" else parts.path
        kind = kind_for_url(path) or ("home" if is_home(path) else None)
        if kind:
            return kind
        if self.items_of("jobposting") or _ATS_EMBED.search(self._embeds()):
            return "careers"
        headings = " ".join(clean(text(h, " "), 80) for h in self.find("h1")[:2])
        return kind_for_text(f"{self.title} {headings}") or "other"

    def _embeds(self) -> str:
        return " ".join(
            str(t.get("src") or "") for t in self.find("script", "iframe") if t.get("src")
        )

    @cached_property
    def country(self) -> str:
        """The company's country (ISO code) as its own structured data gives it, or ""."""
        for _, item in self.items_of(*ORGANIZATION_TYPES):
            address = item.get("address")
            address = address[0] if isinstance(address, list) and address else address
            if isinstance(address, dict):
                code = text_of(address.get("addressCountry")).upper()
                if len(code) == 2:
                    return code
        return ""

    @cached_property
    def phone_region(self) -> str:
        """Where a national phone number on this page most likely belongs: the company's
        country, else the site's country-code TLD, else the US."""
        tld = (split_url(self.url).hostname or "").rsplit(".", 1)[-1].upper()
        for region in (self.country, "GB" if tld == "UK" else tld):
            if region in phonenumbers.SUPPORTED_REGIONS:
                return region
        return "US"

    @cached_property
    def domain(self) -> str:
        return registrable_domain(self.url) or (split_url(self.url).hostname or "")

    def absolute(self, href: object) -> str:
        """An absolute http(s) URL without its fragment, or "" for anything else.

        Every URL a page yields passes sdr.links.outside_url, the one check for URLs from
        outside; a link that cannot be read is skipped and named in the page's warnings."""
        href = str(href or "").strip()
        joined = self._joined.get(href)
        if joined is None:
            joined = self._joined[href] = self._join(href)
        return joined

    def _join(self, href: str) -> str:
        if not href or href.startswith("#") or href[:11].lower().startswith(_NOT_WEB):
            return ""
        try:
            url = urljoin(self.url, href).split("#", 1)[0]
        except ValueError as error:  # "http://[ccpa-preferences]" and other unparseable hrefs
            self._bad_link(href, str(error))
            return ""
        if not url.startswith(("http://", "https://")):
            return ""
        if not outside_url(url):
            self._bad_link(href, "not a valid web address")
            return ""
        return url

    def _bad_link(self, href: str, reason: str) -> None:
        self._bad_links.append(href)
        if len(self._bad_links) <= MAX_LINK_WARNINGS:
            self.warnings.append(f"skipped a link that cannot be read: {href[:200]!r} ({reason})")

    def link_warnings(self) -> None:
        """Count the bad links past the ones named (called once, when extraction ends)."""
        extra = len(self._bad_links) - MAX_LINK_WARNINGS
        if extra > 0:
            self.warnings.append(f"skipped {extra:,} more links that cannot be read")

    def same_site(self, url: str) -> bool:
        """On the page's registrable domain ("www.acme.com" and "acme.com" are one site)."""
        host = split_url(url).netloc
        if host == self._netloc:
            return True  # most links; skips the public-suffix lookup
        domain = registrable_domain(host)
        return bool(domain) and domain == self.domain

    @cached_property
    def _netloc(self) -> str:
        return split_url(self.url).netloc
