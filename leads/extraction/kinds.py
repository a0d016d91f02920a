"""What kind of page a URL or a link's text points at: about, team, careers, press, ..."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Path segments (without extension) that name a kind of page.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "team": ("team", "our-team", "people", "leadership", "management", "founders", "team-members"),
    "careers": (
        "careers",
        "career",
        "jobs",
        "join-us",
        "join",
        "work-with-us",
        "hiring",
        "positions",
        "openings",
        "vacancies",
        "open-roles",
    ),
    "press": (
        "press",
        "news",
        "newsroom",
        "media",
        "announcements",
        "press-releases",
        "in-the-news",
    ),
    "blog": ("blog", "insights", "stories", "articles", "updates"),
    "about": ("about", "about-us", "company", "who-we-are", "our-story", "mission"),
    "contact": ("contact", "contact-us", "get-in-touch"),
}
_SEGMENT_KIND = {word: kind for kind, words in KIND_WORDS.items() for word in words}
_TEXT_KIND = {
    kind: re.compile(r"\b(?:" + "|".join(w.replace("-", "[ -]") for w in words) + r")\b", re.I)
    for kind, words in KIND_WORDS.items()
}
_HOME_SEGMENT = re.compile(r"^(?:index\.html?|[a-z]{2}(?:[-_][a-z]{2})?)$", re.I)


def kind_for_url(url: str) -> str | None:
    """The kind a URL's path names, the deepest segment first ("/company/team" is team)."""
    segments = [s for s in _path(url).lower().split("/") if s]
    for segment in reversed(segments):
        kind = _SEGMENT_KIND.get(segment.rsplit(".", 1)[0])
        if kind:
            return kind
    return None


def kind_for_text(text: str) -> str | None:
    """The kind a link's or heading's words name ("Meet the team", "We're hiring")."""
    return next((kind for kind, pattern in _TEXT_KIND.items() if pattern.search(text)), None)


def is_home(url: str) -> bool:
    segments = [s for s in _path(url).split("/") if s]
    return len(segments) <= 1 and all(_HOME_SEGMENT.match(s) for s in segments)


def _path(url: str) -> str:
    try:
        return urlsplit(url).path
    except ValueError:  # "http://[ccpa-preferences]/team": no page to name
        return ""
