"""Registrable domains ("acme.co.uk" for "https://www.shop.acme.co.uk/x")."""

from __future__ import annotations

from functools import cache, lru_cache
from urllib.parse import urlsplit

import tldextract


@cache
def _extractor() -> tldextract.TLDExtract:
    # The Public Suffix List snapshot bundled with tldextract, never a download: this
    # machine (and production workers) must not reach out at run time for it.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=8192)
def registrable_domain(value: str) -> str:
    """The registrable domain of a host, URL or email address; "" if there is none."""
    value = (value or "").strip().lower()
    if "@" in value and "://" not in value:
        value = value.rsplit("@", 1)[1]
    if "://" not in value:
        value = "http://" + value
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket, a bad port
        return ""
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2 or labels[-1].isdigit():
        return ""  # "localhost", an IP address
    # Reserved and private TLDs (.example, .test, .internal) are not in the list; their
    # last two labels still name one organisation.
    return ".".join(labels[-2:])
