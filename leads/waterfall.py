"""Choosing each company field from its facts, keeping the provenance of the choice.

Several sources can say different things about one field (the JSON-LD name, the <title>,
what the CSV said). Every value stays a Fact; the company row shows the winner, and
`Company.field_sources` says which fact won, from where, and over what.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import SupportsInt

from leads.models import Company, Fact

# Lower wins. What a person supplied (CSV, API, the UI) beats what we scraped; structured
# data the site publishes about itself beats text heuristics.
SOURCE_PRIORITY = {"supplied": 0, "structured": 1, "website": 2}
# Where a field's best source is known to differ, extractors in order of trust; the rest
# follow by source kind. A page's meta description is written for people and usually
# fuller than the OpenGraph one; a tel: link is the number the site wants called.
FIELD_EXTRACTOR_PRIORITY: dict[str, tuple[str, ...]] = {
    "name": ("supplied", "jsonld", "microdata", "opengraph", "meta"),
    "description": ("supplied", "jsonld", "microdata", "meta", "opengraph"),
    "phone": ("supplied", "jsonld", "microdata", "contacts"),
    "open_roles_count": ("supplied", "careers"),
}

SCALAR_FIELDS = {
    "name": "name",
    "description": "description",
    "industry": "industry",
    "location": "location",
    "country": "country",
    "phone": "phone",
    "employee_count": "employee_count",
    "open_roles_count": "open_roles_count",
}
MAX_CONTACT_EMAILS = 5
_FIELD_LIMITS = {"name": 200, "industry": 120, "location": 200, "country": 2, "phone": 40}


@dataclass(frozen=True)
class Choice:
    fact: Fact
    alternatives: list[Fact]

    def explain(self) -> dict[str, object]:
        others = [f"{alt.value!r} ({alt.extractor})" for alt in self.alternatives[:3]]
        why = f"{_source_label(self.fact)}, confidence {self.fact.confidence:.2f}"
        if others:
            why += "; preferred over " + ", ".join(others)
        return {
            "fact": str(self.fact.pk),
            "source": self.fact.source_url,
            "extractor": self.fact.extractor,
            "why": why,
            "alternatives": len(self.alternatives),
        }


def _source_label(fact: Fact) -> str:
    if fact.source_kind == "supplied":
        return f"supplied by {fact.extractor}"
    return f"{fact.extractor} on {fact.source_url}"


def _rank(fact: Fact) -> tuple:
    order = FIELD_EXTRACTOR_PRIORITY.get(fact.field, ())
    by_extractor = order.index(fact.extractor) if fact.extractor in order else len(order)
    return (
        by_extractor,
        SOURCE_PRIORITY.get(fact.source_kind, len(SOURCE_PRIORITY)),
        -fact.confidence,
        -fact.observed_at.timestamp(),
    )


def choose(facts: Iterable[Fact]) -> Choice | None:
    ranked = sorted(facts, key=_rank)
    if not ranked:
        return None
    best = ranked[0]
    alternatives = [f for f in ranked[1:] if f.value != best.value]
    return Choice(fact=best, alternatives=alternatives)


def company_fields_apply(*, company: Company) -> Company:
    """Set the company's fields from its facts and record why each value was chosen."""
    by_field: dict[str, list[Fact]] = defaultdict(list)
    for fact in company.facts.all():
        by_field[fact.field].append(fact)

    sources = dict(company.field_sources)
    for field, attribute in SCALAR_FIELDS.items():
        choice = choose(by_field.get(field, []))
        if choice is None:
            continue
        setattr(company, attribute, _coerce(field, choice.fact.value))
        sources[field] = choice.explain()

    company.socials = _socials(by_field.get("social", []))
    company.tech_stack = sorted({str(f.value) for f in by_field.get("tech", [])})
    company.contact_emails = [
        f.value for f in sorted(by_field.get("email", []), key=_rank)[:MAX_CONTACT_EMAILS]
    ]
    company.field_sources = sources
    return company


def _socials(facts: list[Fact]) -> dict[str, str]:
    best: dict[str, Fact] = {}
    for fact in sorted(facts, key=_rank, reverse=True):  # the best overwrites last
        value = fact.value if isinstance(fact.value, dict) else {}
        if value.get("network") and value.get("url"):
            best[value["network"]] = fact
    return {network: fact.value["url"] for network, fact in sorted(best.items())}


def _coerce(field: str, value: object) -> object:
    if field in {"employee_count", "open_roles_count"}:
        if not isinstance(value, str | SupportsInt):
            return None
        try:
            return max(0, int(value))
        except (TypeError, ValueError):
            return None
    text = "" if value is None else str(value).strip()
    limit = _FIELD_LIMITS.get(field)
    return text[:limit] if limit else text
