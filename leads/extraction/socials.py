"""The company's own profiles on social networks, normalized to one URL per profile."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from leads.extraction.page import Page
from leads.extraction.text import clean
from leads.extraction.tree import outer_html
from leads.extraction.types import ExtractedValue, Found

NETWORKS = {
    "linkedin.com": "linkedin",
    "twitter.com": "twitter",
    "x.com": "twitter",
    "facebook.com": "facebook",
    "github.com": "github",
    "youtube.com": "youtube",
    "instagram.com": "instagram",
    "crunchbase.com": "crunchbase",
}
# How many path segments name a profile, per network ("/company/acme" on LinkedIn).
_PROFILE_DEPTH = {"linkedin": 2, "youtube": 1, "crunchbase": 2}
_PROFILE_PREFIX = {
    "linkedin": ("company", "school", "showcase"),
    "crunchbase": ("organization",),
}
# Share buttons, intents, searches and site pages of the network, not anyone's profile.
_NOT_A_PROFILE = re.compile(
    r"^/(?:intent|share|sharer|sharer\.php|profile\.php|sharing|shareArticle|home|dialog|hashtag|search|"
    r"login|signup|tr|plugins|watch|embed|results|p|reel|explore|about|legal|privacy|"
    r"policies|help|settings|features|pricing|marketplace|topics|i)(?:/|$)",
    re.I,
)
_ANY_NETWORK = re.compile("|".join(re.escape(domain) for domain in NETWORKS), re.I)
# One URL per profile, whichever host a link used ("twitter.com/acme", "uk.linkedin.com").
_CANONICAL_HOST = {"linkedin": "linkedin.com", "twitter": "x.com"}
_SUB_PAGES = {"linkedin", "youtube"}
_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")


def social_value(url: str) -> dict[str, str] | None:
    """{"network": "linkedin", "url": "https://linkedin.com/company/acme"} for a link to a
    company profile, None for anything else (share links, people, posts)."""
    if not _ANY_NETWORK.search(url):
        return None  # most links: skip parsing them
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    network = NETWORKS.get(host) or next(
        (name for domain, name in NETWORKS.items() if host.endswith("." + domain)), None
    )
    if network is None or _NOT_A_PROFILE.search(parts.path):
        return None
    segments = [s for s in parts.path.split("/") if s]
    prefixes = _PROFILE_PREFIX.get(network)
    if prefixes and (not segments or segments[0].lower() not in prefixes):
        return None
    depth = _PROFILE_DEPTH.get(network, 1)
    if network == "youtube" and segments and segments[0] in ("channel", "c", "user"):
        depth = 2
    # A link deeper than a profile is a post or a repository, often someone else's; only
    # LinkedIn and YouTube profiles have sub-pages of their own (".../about", ".../videos").
    if len(segments) < depth or (len(segments) > depth and network not in _SUB_PAGES):
        return None
    host = _CANONICAL_HOST.get(network, host)
    path = "/".join(segments[:depth])
    if network != "youtube":  # handles are case-insensitive, YouTube channel ids are not
        path = path.lower()
    return {"network": network, "url": f"https://{host}/{path}"}


def extract(page: Page) -> Found:
    seen: set[str] = set()
    values = []
    for anchor, url in page.outlinks:
        social = social_value(url)
        if social and social["url"] not in seen:
            seen.add(social["url"])
            values.append(
                ExtractedValue("social", social, clean(outer_html(anchor)), 0.75, "socials")
            )
    handle = _HANDLE.match(page.meta("twitter:site"))
    if handle:
        social = {"network": "twitter", "url": f"https://x.com/{handle.group(1)}"}
        if social["url"] not in seen:
            evidence = f'<meta name="twitter:site" content="{page.meta("twitter:site")}">'
            values.append(ExtractedValue("social", social, evidence, 0.7, "socials"))
    return Found(values=values)
