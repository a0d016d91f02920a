"""Links to the company's profiles on social networks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from leads.extraction.page import Page
from leads.extraction.types import ExtractedValue

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
# Share buttons and intents link to the network, not to the company's profile.
_NOT_A_PROFILE = re.compile(
    r"/(?:intent|share|sharer|sharing|shareArticle|home\?status|dialog|hashtag|search|login)",
    re.I,
)


def social_value(url: str) -> dict[str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("m.")
    network = NETWORKS.get(host) or next(
        (name for domain, name in NETWORKS.items() if host.endswith("." + domain)), None
    )
    path = parts.path.rstrip("/")
    if network is None or not path or _NOT_A_PROFILE.search(parts.path):
        return None
    if network == "linkedin" and not path.startswith(("/company/", "/in/", "/school/")):
        return None
    return {"network": network, "url": f"https://{host}{path}"}


def extract_socials(page: Page) -> list[ExtractedValue]:
    seen: set[str] = set()
    out = []
    for anchor in page.anchors:
        social = social_value(page.absolute(anchor["href"]))
        if social and social["url"] not in seen and "/in/" not in social["url"]:
            seen.add(social["url"])
            out.append(ExtractedValue("social", social, str(anchor)[:300], 0.75, "socials"))
    return out
