"""What extraction produces: values, signals and people, each with its evidence."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class ExtractedValue:
    field: str
    value: object
    evidence: str
    confidence: float
    extractor: str
    source_kind: str = "website"  # "structured" for JSON-LD, microdata, OpenGraph


@dataclass(frozen=True)
class ExtractedSignal:
    kind: str  # funding | hiring | product_launch | leadership_change | news | tech_adoption
    title: str
    happened_on: datetime.date | None
    amount: Decimal | None
    currency: str
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


@dataclass
class PageExtraction:
    url: str
    page_kind: str
    values: list[ExtractedValue] = field(default_factory=list)
    signals: list[ExtractedSignal] = field(default_factory=list)
    people: list[ExtractedPerson] = field(default_factory=list)
    links: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
