"""The one check for URLs that came from outside (scraped pages, CSV files, API clients)
before they are rendered as links or fetched.

A URL is kept only if its scheme is on the allow-list (http and https; mailto where a
caller asks), it has a host that is a plausible DNS name or an IP literal (mailto: a
plausible address), it is at most `MAX_LENGTH` characters, and it holds no whitespace,
control character or quote. Everything else (`javascript:`, `data:`, `vbscript:`, a
scheme hidden behind whitespace or an entity the browser would drop, a relative URL that
would point into the product) is refused: "" comes back, and the caller stores or shows
nothing. Whether the host may be connected to is sdr.netguard's question, asked at fetch
time.

Templates use the `outside_url` filter (sdr/templatetags/links.py) on every href whose
value came from outside, so a value stored before this check existed is not a link either.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

MAX_LENGTH = 2000
WEB_SCHEMES = frozenset({"http", "https"})
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# What _plain refuses, for an ASCII URL: controls, space, quotes, brackets (ASCII has no
# format characters). Scraped pages hold thousands of links; this is their fast path.
_UNSAFE_ASCII = re.compile(r"[\x00-\x20\x7f\"'<>\\`]")


def outside_url(value: object, *, schemes: frozenset[str] = WEB_SCHEMES) -> str:
    """`value` as a URL safe to render as a link or to fetch, or "" if it is not one."""
    if not isinstance(value, str):
        return ""
    url = value.strip()
    if not url or len(url) > MAX_LENGTH or not _plain(url):
        return ""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port that is not a number
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return ""
    if scheme == "mailto":
        return url if _EMAIL.match(parts.path.split("?", 1)[0]) else ""
    if not url.lower().startswith(f"{scheme}://"):  # "http:/x", "http:x": no host of its own
        return ""
    host = (parts.hostname or "").rstrip(".")
    if not host or (port is not None and not 0 < port < 65536) or not _host_ok(host):
        return ""
    return url


def _plain(url: str) -> bool:
    """No whitespace, control or format character, quote or angle bracket: a browser
    drops some of these before reading the scheme, and none belongs in a URL as written."""
    if url.isascii():
        return _UNSAFE_ASCII.search(url) is None
    return not any(
        char.isspace() or char in "\"'<>\\`" or unicodedata.category(char) in ("Cc", "Cf")
        for char in url
    )


@lru_cache(maxsize=4096)  # a page's links share a few hosts; the idna codec is slow
def _host_ok(host: str) -> bool:
    if ":" in host:  # an IPv6 literal; urlsplit took it from between brackets
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    return all(_HOST_LABEL.match(label) for label in ascii_host.split("."))
