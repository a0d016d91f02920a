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

    def meta(self, *names: str) -> str:
        for name in names:
            tag = self.soup.find("meta", attrs={"property": name}) or self.soup.find(
                "meta", attrs={"name": name}
            )
            if tag and tag.get("content"):
                return clean(tag["content"], 1000)
        return ""


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
