"""One parsed page, shared by every extractor: parsed once, walked once, read many times."""

from __future__ import annotations

import re
import warnings
from collections import defaultdict
from functools import cached_property
from urllib.parse import urljoin, urlsplit

import phonenumbers
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, NavigableString, Tag
from bs4.element import PreformattedString

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
from sdr.domains import registrable_domain

# A fetched page whose whole text looks like a URL or a file name is still a page.
warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)

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


class Page:
    """A page's soup plus what every extractor needs from it, computed once.

    `tags` indexes every element by name in document order, so extractors look tags up
    instead of each walking the whole tree again with find_all.
    """

    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self.warnings: list[str] = []
        self.html = self._capped(html or "")
        self.soup = BeautifulSoup(self.html, "lxml")
        self.elements: list[Tag] = []
        self.tags: dict[str, list[Tag]] = defaultdict(list)
        self.ids: set[str] = set()
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
        sees and what is hidden (display:none, aria-hidden, <template>, ...)."""
        texts: tuple[list[str], list[str]] = ([], [])
        sizes = [0, 0]
        limits = (MAX_TEXT, MAX_HIDDEN_TEXT)
        stack: list[tuple[object, int]] = [(self.soup, VISIBLE)]
        while stack:
            node, state = stack.pop()
            if isinstance(node, Tag):
                state = max(state, self._index(node))
                stack.extend((child, state) for child in reversed(node.contents))
            elif (
                state != NOT_TEXT
                and isinstance(node, NavigableString)
                and not isinstance(node, PreformattedString)  # comments, doctype, CDATA
                and sizes[state] < limits[state]
            ):
                texts[state].append(node)
                sizes[state] += len(node)
        if sizes[VISIBLE] >= MAX_TEXT:
            self.warnings.append(f"truncated: only the first {MAX_TEXT:,} characters of text read")
        return texts

    def _index(self, tag: Tag) -> int:
        if tag.name == "[document]":
            return VISIBLE
        self.elements.append(tag)
        self.tags[tag.name].append(tag)
        attrs = tag.attrs
        if "id" in attrs:
            self.ids.add(str(attrs["id"]))
        if tag.name in _NOT_TEXT_TAGS:
            return NOT_TEXT
        if (
            tag.name in _HIDDEN_TAGS
            or "hidden" in attrs
            or attrs.get("aria-hidden") == "true"
            or ("style" in attrs and _HIDDEN_STYLE.search(str(attrs["style"])))
        ):
            return HIDDEN
        return VISIBLE

    def find(self, *names: str) -> list[Tag]:
        """Tags with any of these names, in document order, from the index."""
        if len(names) == 1:
            return self.tags.get(names[0], [])
        wanted = set(names)
        return [tag for tag in self.elements if tag.name in wanted]

    @cached_property
    def anchors(self) -> list[Tag]:
        return [a for a in self.find("a") if a.get("href")]

    @cached_property
    def outlinks(self) -> list[tuple[Tag, str]]:
        """(anchor, absolute http(s) URL) for every web link, resolved once for all readers."""
        resolved = ((anchor, self.absolute(anchor["href"])) for anchor in self.anchors)
        return [(anchor, url) for anchor, url in resolved if url]

    @cached_property
    def metas(self) -> dict[str, str]:
        """<meta name|property=... content=...>, lowercased names, first one wins."""
        found: dict[str, str] = {}
        for tag in self.find("meta"):
            key = str(tag.get("property") or tag.get("name") or "").strip().lower()
            if key and tag.get("content") and key not in found:
                found[key] = clean(str(tag["content"]), 2000)
        return found

    def meta(self, *names: str) -> str:
        return next((self.metas[n] for n in names if self.metas.get(n)), "")

    @cached_property
    def title(self) -> str:
        # An inline <svg> has <title>s of its own ("Close menu"); they do not name the page.
        title = next((t for t in self.find("title") if t.find_parent("svg") is None), None)
        return clean(title.get_text(), 300) if title else ""

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
        parts = urlsplit(self.url)
        # A saved file's directories say nothing about the page; its name does.
        path = parts.path.rsplit("/", 1)[-1] if parts.scheme == "file" else parts.path
        kind = kind_for_url(path) or ("home" if is_home(path) else None)
        if kind:
            return kind
        if self.items_of("jobposting") or _ATS_EMBED.search(self._embeds()):
            return "careers"
        headings = " ".join(clean(h.get_text(" "), 80) for h in self.find("h1")[:2])
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
        tld = (urlsplit(self.url).hostname or "").rsplit(".", 1)[-1].upper()
        for region in (self.country, "GB" if tld == "UK" else tld):
            if region in phonenumbers.SUPPORTED_REGIONS:
                return region
        return "US"

    @cached_property
    def domain(self) -> str:
        return registrable_domain(self.url) or (urlsplit(self.url).hostname or "")

    def absolute(self, href: object) -> str:
        """An absolute http(s) URL without its fragment, or "" for anything else."""
        href = str(href or "").strip()
        if (
            not href
            or href.startswith("#")
            or href[:11].lower().startswith(("javascript:", "data:", "mailto:", "tel:"))
        ):
            return ""
        try:
            url = urljoin(self.url, href).split("#", 1)[0]
        except ValueError:  # "http://[broken" and other unparseable hrefs
            return ""
        return url if url.startswith(("http://", "https://")) else ""

    def same_site(self, url: str) -> bool:
        """On the page's registrable domain ("www.acme.com" and "acme.com" are one site)."""
        host = urlsplit(url).netloc
        if host == self._netloc:
            return True  # most links; skips the public-suffix lookup
        domain = registrable_domain(host)
        return bool(domain) and domain == self.domain

    @cached_property
    def _netloc(self) -> str:
        return urlsplit(self.url).netloc
