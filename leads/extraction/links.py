"""Which same-site pages are worth reading next, and the URLs a sitemap lists."""

from __future__ import annotations

import gzip
import io
import zlib
from urllib.parse import urljoin

from lxml import etree

from leads.extraction.kinds import KIND_WORDS, kind_for_text, kind_for_url
from leads.extraction.page import Page, split_url
from leads.extraction.text import clean
from leads.extraction.tree import text
from sdr.domains import registrable_domain
from sdr.links import outside_url

# kind_for_url is re-exported: enrichment classifies sitemap URLs with it.
__all__ = ["extract", "kind_for_url", "sitemap_urls"]

MAX_LINKS_PER_KIND = 10
MAX_SITEMAP_URLS = 500
MAX_SITEMAP_BYTES = 10_000_000  # a gzip bomb stops here; real sitemaps are far smaller


def extract(page: Page) -> dict[str, list[str]]:
    """page kind -> absolute same-site URLs (no fragments, no duplicates), at most ten each."""
    links: dict[str, list[str]] = {kind: [] for kind in KIND_WORDS}
    for anchor, url in page.outlinks:
        if url == page.url or not page.same_site(url):
            continue
        kind = kind_for_url(url) or kind_for_text(clean(text(anchor, " "), 60))
        if kind and url not in links[kind] and len(links[kind]) < MAX_LINKS_PER_KIND:
            links[kind].append(url)
    return {kind: urls for kind, urls in links.items() if urls}


def sitemap_urls(xml: bytes | str, *, base_url: str) -> list[str]:
    """The URLs a sitemap lists (for a sitemap index, the sitemaps it lists), resolved
    against `base_url` and kept on its site. Junk yields what could be read, maybe []."""
    data = _bytes(xml)
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError:  # recover=True still gives up on some input (empty, binary)
        return []
    if root is None:
        return []
    site = registrable_domain(base_url) or split_url(base_url).netloc
    urls = []
    for loc in root.iter("{*}loc"):
        text = clean(loc.text, 2000)
        # Absolute URLs as the protocol asks, or root-relative paths ("/about.html") that
        # sites served under more than one host write; a bare word is a truncated file.
        if not text.startswith(("http://", "https://", "/")):
            continue
        try:
            url = outside_url(urljoin(base_url, text).split("#", 1)[0])
        except ValueError:  # "http://[ccpa-preferences]": not a URL, skipped
            continue
        if url and (registrable_domain(url) or split_url(url).netloc) == site:
            urls.append(url)
    return list(dict.fromkeys(urls))[:MAX_SITEMAP_URLS]


def _bytes(xml: bytes | str) -> bytes:
    data = xml.encode() if isinstance(xml, str) else xml
    if data[:2] == b"\x1f\x8b":  # sitemap.xml.gz
        try:
            return gzip.GzipFile(fileobj=io.BytesIO(data)).read(MAX_SITEMAP_BYTES)
        except (OSError, EOFError, zlib.error):
            return b""
    return data[:MAX_SITEMAP_BYTES]
