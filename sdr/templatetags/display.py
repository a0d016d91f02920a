"""What the pages show a seller instead of what the code stores: counts with thousands
separators, plain words for internal ids (check names, departments, fact fields), fact
values and evidence as readable text, and errors as a sentence.

`{% load display %}`, then `{{ n|count }}`, `{{ check.name|words:"check" }}`,
`{{ status|choice_label:"outreach.Message.status" }}`, `{{ fact.value|fact_value }}`,
`{{ fact.evidence|plain_text }}`, `{{ company.enrich_error|plain_error }}`,
`{{ lead.last_activity_at|ago }}`.

The vocabulary is plain data here, not imported from the apps: the core does not import
them (STYLE.md), and an id missing from it still reads as words ("not_near_duplicate"
becomes "Not near duplicate"), never as the id.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.apps import apps
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.timesince import timesince

register = template.Library()

CHECKS = {
    "citations_known": "Cites only facts we hold",
    "claims_cited": "Every claim cites a fact",
    "claims_grounded": "Claims match the facts",
    "claims_supported": "Claims supported by their sources",
    "events_grounded": "Events match the signals",
    "first_touch_not_a_reply": "First email does not pretend to be a reply",
    "follow_up_adds_something": "Follow-up adds something new",
    "greeting_matches_lead": "Greeting uses the right name",
    "language_matches": "Written in the lead's language",
    "length": "Length",
    "names_grounded": "Names match the facts",
    "no_competitors": "No competitor named",
    "no_injected_instructions": "No instructions smuggled in from a web page",
    "no_money_request": "No request for money",
    "no_placeholders": "No unfilled placeholders",
    "not_near_duplicate": "Not a near copy of another email",
    "numbers_grounded": "Figures match the facts",
    "offer_claims_grounded": "Offer matches the campaign",
    "one_clear_ask": "One clear ask",
    "only_campaign_contacts": "Only the campaign's contact details",
    "only_campaign_links": "Only the campaign's links",
    "spam_words": "No spam-like wording",
    "subject_is_a_header": "Subject fits on one line",
    "subject_not_hype": "Subject without hype",
    "tone": "Polite tone",
}
DEPARTMENTS = {
    "customer_success": "Customer success",
    "people": "People / HR",
}
FACT_FIELDS = {
    "employee_count": "Employees",
    "open_roles_count": "Open roles",
    "social": "Social profile",
    "tech": "Technology",
    "email": "Email address",
    "signal.funding": "Funding",
    "signal.hiring": "Hiring",
    "signal.product_launch": "Product launch",
    "signal.leadership_change": "Leadership change",
    "signal.news": "News",
    "signal.tech_adoption": "Tech adoption",
}
EXTRACTORS = {
    "meta": "page title and description",
    "socials": "social links",
    "contacts": "contact details",
    "tech": "technology markers",
    "press": "press page",
    "team": "team page",
    "careers": "careers page",
    "structured": "structured data",
    "supplied": "given by a person",
}
SOCIALS = {
    "linkedin": "LinkedIn",
    "x": "X",
    "twitter": "X (Twitter)",
    "github": "GitHub",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "instagram": "Instagram",
}
# Stripe's subscription and invoice states.
STRIPE = {
    "past_due": "Past due",
    "incomplete_expired": "Incomplete, expired",
    "trialing": "On trial",
    "uncollectible": "Uncollectible",
}
VOCABULARY: dict[str, Mapping[str, str]] = {
    "check": CHECKS,
    "department": DEPARTMENTS,
    "field": FACT_FIELDS,
    "extractor": EXTRACTORS,
    "stripe": STRIPE,
    "social": SOCIALS,
}
_SNAKE = re.compile(r"[_.]+")


@register.filter
def words(value: object, kind: str = "") -> str:
    """An internal id in plain words: from the vocabulary of `kind` (or any), else the id
    with its underscores and dots as spaces and a capital first letter."""
    text = "" if value is None else str(value)
    tables = [VOCABULARY[kind]] if kind in VOCABULARY else list(VOCABULARY.values())
    for table in tables:
        if text in table:
            return table[text]
    spaced = _SNAKE.sub(" ", text).strip()
    return spaced[:1].upper() + spaced[1:]


@register.filter
def choice_label(value: object, field_path: str) -> str:
    """The label a model's choices give `value`: `{{ s|choice_label:"outreach.Message.status" }}`.
    Looked up by name so the core does not import the app."""
    app_label, model_name, field_name = field_path.split(".")
    field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    labels = {str(key): str(label) for key, label in (getattr(field, "choices", None) or [])}
    return labels.get(str(value), words(value))


# A run of digits standing alone: not part of a date, time, decimal, id, word or URL.
_DIGITS = re.compile(r"(?<![\w.,:/#-])\d{4,}(?![\w.,:/-])")


@register.filter
def count(value: object) -> str:
    """A count with thousands separators: 97600 -> "97,600". In a string, each run of four
    or more digits is formatted ("3 / 51900" -> "3 / 51,900"); other values pass through."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        number = Decimal(str(value))
        whole = number.is_finite() and number == number.to_integral_value()
        return f"{int(number):,}" if whole else str(value)
    return _DIGITS.sub(lambda m: f"{int(m.group()):,}", str(value))


@register.filter
def fact_value(value: object) -> str:
    """A fact's JSON value as a reader would write it: a social profile as "network: url",
    a dict as "Key: value · Key: value", a list joined with commas, counts formatted."""
    if isinstance(value, Mapping):
        if "url" in value and "network" in value:
            return f"{words(value['network'], 'social')}: {value['url']}"
        return " · ".join(
            f"{words(key, 'field')}: {fact_value(item)}"
            for key, item in value.items()
            if item not in (None, "", [], {})
        )
    if isinstance(value, list | tuple):
        return ", ".join(fact_value(item) for item in value if item not in (None, ""))
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return count(value)
    return "" if value is None else str(value)


@register.filter
def plain_text(value: object) -> str:
    """Evidence read off a page, as text: markup removed, entities decoded, whitespace
    collapsed (the template escapes the result again)."""
    text = html.unescape(strip_tags("" if value is None else str(value)))
    return " ".join(text.split())


_FETCH_REASONS = (
    "bad_url|unsupported_scheme|blocked_address|robots_disallowed|page_cap_reached|too_large|"
    "timeout|too_many_redirects|redirect_loop|http_error|connection_error|"
    "unsupported_content_type"
)
_ERROR_REWRITES = [
    # The resolver's words ("[Errno -2] Name or service not known") mean: no such site.
    (
        re.compile(r"Cannot resolve (\S+?):? \[Errno -?\d+\][^()]*", re.I),
        r"the address \1 could not be found ",
    ),
    (re.compile(r"(\S+) has no address", re.I), r"the address \1 could not be found"),
    (re.compile(r"\[Errno -?\d+\]\s*"), ""),
    (re.compile(rf"\s*\((?:{_FETCH_REASONS})\)"), ""),
    (re.compile(r"\b(?:httpx|httpcore|requests)\.\w+:\s*"), ""),
]


@register.filter
def plain_error(value: object) -> str:
    """A stored error as a sentence: resolver and errno jargon and our reason codes out,
    a capital first letter and a full stop."""
    text = "" if value is None else " ".join(str(value).split())
    if not text:
        return ""
    for pattern, replacement in _ERROR_REWRITES:
        text = pattern.sub(replacement, text)
    text = " ".join(text.split()).rstrip(" :;,")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


@register.filter
def percent(value: object) -> str:
    """A rate (0.125) as a percentage ("12.5%"); None, a rate over nothing, as a dash."""
    if value is None or value == "":
        return "–"
    rate = float(str(value))
    return f"{rate:.0%}" if rate >= 0.1 or rate == 0 else f"{rate:.1%}"


@register.filter
def ago(moment: datetime | None) -> str:
    """How long ago, to its largest unit ("3 days ago", "just now"); empty for None."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"
