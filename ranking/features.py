"""Features of a lead, as strings ("seniority=vp", "icp:industry"), and their hashing.

Pure: plain values in, names and a sparse matrix out; `ranking.scoring` reads them from
the database in bulk. Every feature is binary, so a lead is the set of its feature names
and the model's weight for a name is that name's contribution to the lead's log-odds.

Names are hashed (scikit-learn's FeatureHasher) rather than given a fitted vocabulary:
the model is updated online for years, and a hashed space takes a new industry or tech
without refitting or migrating the stored weights.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import FeatureHasher
from sklearn.utils import murmurhash3_32

from leads.models import Lead

N_FEATURES = 2**17
BIAS = "bias"
_HASHER = FeatureHasher(n_features=N_FEATURES, input_type="string", alternate_sign=False)

SIZE_BANDS: list[tuple[int, str]] = [
    (10, "1-10"),
    (50, "11-50"),
    (200, "51-200"),
    (1000, "201-1000"),
    (5000, "1001-5000"),
]
LARGEST_BAND = "5001+"
SIZE_CHOICES = [band for _, band in SIZE_BANDS] + [LARGEST_BAND]
# A cap on tech names per company: a page listing 200 tools is not 200 reasons.
MAX_TECH = 20

# Weights the ideal customer profile puts on its matches before any outcome is known,
# in log-odds. The bias starts at about a 3% reply rate, a common cold-email figure.
PRIOR_BIAS = -3.5
PRIOR_WEIGHTS: dict[str, float] = {
    "icp:industry": 1.0,
    "icp:size": 0.8,
    "icp:seniority": 0.9,
    "icp:title": 0.9,
    "icp:department": 0.7,
    "icp:location": 0.6,
    "icp:must_have_met": 0.8,
    "icp:must_have_missing": -1.5,
    "icp:excluded": -4.0,
}


@dataclass(frozen=True)
class LeadFacts:
    """What the ranking knows about one lead, as read from the database."""

    seniority: str = ""
    department: str = ""
    title: str = ""
    has_email: bool = True
    industry: str = ""
    employee_count: int | None = None
    country: str = ""
    location: str = ""
    tech: Sequence[str] = ()
    # "kind:recency" ("funding:30d"), recency one of 30d, 90d, 365d, older.
    signals: Sequence[str] = ()


@dataclass(frozen=True)
class Profile:
    """The ideal customer profile, lowercased for matching."""

    industries: frozenset[str] = field(default_factory=frozenset)
    sizes: frozenset[str] = field(default_factory=frozenset)
    seniorities: frozenset[str] = field(default_factory=frozenset)
    titles: tuple[str, ...] = ()
    departments: frozenset[str] = field(default_factory=frozenset)
    locations: tuple[str, ...] = ()
    must_have: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @classmethod
    def from_lists(cls, **lists: Iterable[str]) -> Profile:
        def clean(name: str) -> list[str]:
            return [v for v in (_text(x) for x in lists.get(name, ())) if v]

        return cls(
            industries=frozenset(clean("industries")),
            sizes=frozenset(clean("company_sizes")),
            seniorities=frozenset(clean("seniorities")),
            titles=tuple(clean("titles")),
            departments=frozenset(clean("departments")),
            locations=tuple(clean("locations")),
            must_have=tuple(clean("must_have")),
            excluded=tuple(clean("excluded")),
        )


def _text(value: object) -> str:
    """Lowercase, NFKC, spaces collapsed, capped: untrusted text as a feature value."""
    text = unicodedata.normalize("NFKC", str(value or "")).casefold()
    return re.sub(r"\s+", " ", text).strip()[:80]


def size_band(employees: int | None) -> str:
    if employees is None:
        return "unknown"
    return next((band for top, band in SIZE_BANDS if employees <= top), LARGEST_BAND)


def lead_features(facts: LeadFacts, profile: Profile) -> list[str]:
    """The lead's feature names, each once."""
    industry, location = _text(facts.industry), _text(facts.location)
    country = _text(facts.country)
    tech = sorted({t for t in (_text(x) for x in facts.tech[:MAX_TECH]) if t})
    names = [
        BIAS,
        f"seniority={facts.seniority or 'unknown'}",
        f"department={facts.department or 'unknown'}",
        f"size={size_band(facts.employee_count)}",
    ]
    if industry:
        names.append(f"industry={industry}")
    if country:
        names.append(f"country={country}")
    if not facts.has_email:
        names.append("email=none")
    names += [f"tech={t}" for t in tech]
    names += [f"signal={s}" for s in sorted(set(facts.signals))]
    names += _profile_matches(facts, profile, industry, f"{location} {country}", tech)
    return names


def _profile_matches(
    facts: LeadFacts, profile: Profile, industry: str, place: str, tech: list[str]
) -> list[str]:
    title = _text(facts.title)
    matched = [
        ("icp:industry", any(i in industry for i in profile.industries) if industry else False),
        ("icp:size", size_band(facts.employee_count) in profile.sizes),
        ("icp:seniority", facts.seniority in profile.seniorities),
        ("icp:title", any(t in title for t in profile.titles) if title else False),
        ("icp:department", facts.department in profile.departments),
        ("icp:location", any(loc in place for loc in profile.locations)),
    ]
    names = [name for name, hit in matched if hit]
    # Traits are matched against everything known as text: "salesforce", "funding", "saas".
    traits = " | ".join([title, industry, place, *tech, *facts.signals])
    if profile.must_have:
        met = all(trait in traits for trait in profile.must_have)
        names.append("icp:must_have_met" if met else "icp:must_have_missing")
    if any(trait in traits for trait in profile.excluded):
        names.append("icp:excluded")
    return names


def features_matrix(rows: Iterable[Sequence[str]]) -> sparse.csr_matrix:
    """One row per lead, one column per hashed feature name, 1.0 where the lead has it."""
    return _HASHER.transform(rows).tocsr()


@functools.lru_cache(maxsize=65536)
def feature_index(name: str) -> int:
    """The column FeatureHasher puts `name` in (its murmurhash3, seed 0, absolute value)."""
    return abs(int(murmurhash3_32(name, seed=0))) % N_FEATURES


def prior_mean() -> np.ndarray:
    """The weights before any outcome: only the profile's matches and the bias count."""
    mean = np.zeros(N_FEATURES)
    mean[feature_index(BIAS)] = PRIOR_BIAS
    for name, weight in PRIOR_WEIGHTS.items():
        mean[feature_index(name)] = weight
    return mean


_SENIORITY = dict(Lead.Seniority.choices)
_PREFIX_LABELS = {
    "seniority": "Title seniority",
    "department": "Department",
    "size": "Company size",
    "industry": "Industry",
    "country": "Country",
    "tech": "Uses",
    "signal": "Recent signal",
    "email": "Email address",
}
_ICP_LABELS = {
    "icp:industry": "Industry in your ideal customer profile",
    "icp:size": "Company size in your ideal customer profile",
    "icp:seniority": "Seniority in your ideal customer profile",
    "icp:title": "Title in your ideal customer profile",
    "icp:department": "Department in your ideal customer profile",
    "icp:location": "Location in your ideal customer profile",
    "icp:must_have_met": "Has every must-have trait",
    "icp:must_have_missing": "Lacks a must-have trait",
    "icp:excluded": "Has an excluded trait",
}


def feature_label(name: str) -> str:
    """A person-readable label for a feature name."""
    if name in _ICP_LABELS:
        return _ICP_LABELS[name]
    prefix, _, value = name.partition("=")
    if prefix == "seniority":
        value = str(_SENIORITY.get(value, value)) if value != "unknown" else "Unknown"
    elif prefix == "signal":
        kind, _, recency = value.partition(":")
        value = f"{kind.replace('_', ' ')} ({recency})"
    return f"{_PREFIX_LABELS.get(prefix, prefix)}: {value}"


def reasons(names: Sequence[str], weights: np.ndarray, *, top: int = 5) -> list[dict]:
    """The features that moved this lead's log-odds most, signed, largest first."""
    scored = [(n, float(weights[feature_index(n)])) for n in names if n != BIAS]
    scored = [(n, c) for n, c in scored if c != 0.0]
    scored.sort(key=lambda item: (-abs(item[1]), item[0]))
    return [
        {"feature": n, "label": feature_label(n), "contribution": round(c, 4)}
        for n, c in scored[:top]
    ]
