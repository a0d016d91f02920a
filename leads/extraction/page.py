"""One parsed page, shared by every extractor: parse once, read many times."""

from __future__ import annotations

import re
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from sdr.domains import registrable_domain

# Regexes scan at most this much visible text: enough for any real page, and a 5 MB page
# of repeated markup cannot make extraction slow.
MAX_TEXT = 200_000
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACE = re.compile(r"\s+")


def clean(text: str | None, limit: int = 300) -> str:
    return _SPACE.sub(" ", text or "").strip()[:limit]


class Page:
    def __init__(self, html: str, url: str) -> None:
        self.url = url
        self.html = html
        self.soup = BeautifulSoup(html, "lxml")
        self.warnings: list[str] = []

    @cached_property
    def domain(self) -> str:
        return registrable_domain(self.url) or (urlsplit(self.url).hostname or "")

    @cached_property
    def visible_text(self) -> str:
        """Text a visitor sees: no scripts, styles, templates or hidden elements."""
        return clean(" ".join(self.visible_strings()), MAX_TEXT)

    def visible_strings(self, root: Tag | None = None) -> list[str]:
        root = root or self.soup.body or self.soup
        out: list[str] = []
        for string in root.find_all(string=True):
            if not string.strip() or _is_hidden(string.parent):
                continue
            out.append(str(string))
            if sum(map(len, out)) > MAX_TEXT:
                break
        return out

    @cached_property
    def anchors(self) -> list[Tag]:
        """Every <a href>, found once and shared by the extractors that read links."""
        return self.soup.find_all("a", href=True)

    def absolute(self, href: str | None) -> str:
        if not href:
            return ""
        href = href.strip()
        if href.lower().startswith(("javascript:", "data:", "#")):
            return ""
        return urljoin(self.url, href).split("#", 1)[0]

    def same_site(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        if registrable_domain(url):
            return registrable_domain(url) == self.domain
        return host == (urlsplit(self.url).hostname or "")

    @cached_property
    def metas(self) -> dict[str, str]:
        """<meta name|property=... content=...>, lowercased names, first one wins."""
        found: dict[str, str] = {}
        for tag in self.soup.find_all("meta"):
            key = (tag.get("property") or tag.get("name") or "").strip().lower()
            if key and tag.get("content") and key not in found:
                found[key] = clean(tag["content"], 1000)
        return found

    def meta(self, *names: str) -> str:
        return next((self.metas[n] for n in names if self.metas.get(n)), "")


_HIDDEN_TAGS = {"script", "style", "noscript", "template", "head", "title", "svg"}


def _is_hidden(tag: Tag | None) -> bool:
    while tag is not None and tag.name not in ("body", "[document]"):
        if tag.name in _HIDDEN_TAGS:
            return True
        attrs = tag.attrs or {}
        if "hidden" in attrs or attrs.get("aria-hidden") == "true":
            return True
        if _HIDDEN_STYLE.search(attrs.get("style", "") or ""):
            return True
        tag = tag.parent
    return False
