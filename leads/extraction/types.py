"""What extraction produces: values, signals and people, each with its evidence."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ExtractedValue:
    # name, description, industry, location, country, phone, email, social, tech,
    # employee_count, founded, logo, open_roles_count, open_role, address
    field: str
    value: object  # JSON-serialisable: str, int, or a dict (social, open_role)
    evidence: str  # the snippet the value was read from, at most 300 characters
    confidence: float  # structured data > meta tags > text heuristics
    extractor: str  # jsonld, microdata, opengraph, meta, contacts, socials, tech, careers...
    source_kind: str = "website"  # "structured" for JSON-LD, microdata, OpenGraph


@dataclass(frozen=True)
class ExtractedSignal:
    kind: str  # funding | hiring | product_launch | leadership_change | news | tech_adoption
    title: str
    happened_on: datetime.date | None
    amount: Decimal | None  # in units of the currency: 20000000 for "$20M"
    currency: str  # "" or an ISO 4217 code
    details: dict
    evidence: str
    confidence: float


@dataclass(frozen=True)
class ExtractedPerson:
    name: str
    title: str
    linkedin_url: str
    email: str
    evidence: str


@dataclass(frozen=True)
class PageExtraction:
    url: str
    page_kind: str  # home | about | team | careers | press | blog | contact | other
    values: list[ExtractedValue]
    signals: list[ExtractedSignal]
    people: list[ExtractedPerson]
    links: dict[str, list[str]]  # page kind -> same-site URLs worth reading next
    warnings: list[str]


@dataclass
class Found:
    """What one extractor found on a page; every extractor returns one."""

    values: list[ExtractedValue] = field(default_factory=list)
    signals: list[ExtractedSignal] = field(default_factory=list)
    people: list[ExtractedPerson] = field(default_factory=list)

    def add(self, other: Found) -> None:
        self.values += other.values
        self.signals += other.signals
        self.people += other.people
