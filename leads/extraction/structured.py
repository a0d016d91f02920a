"""Structured data a site publishes about itself: JSON-LD, microdata, OpenGraph, meta tags."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from leads.extraction.contacts import e164
from leads.extraction.page import Page, clean
from leads.extraction.socials import social_value
from leads.extraction.types import ExtractedValue

ORGANIZATION_TYPES = {
    "organization",
    "corporation",
    "localbusiness",
    "onlinebusiness",
    "ngo",
    "educationalorganization",
    "professionalservice",
    "store",
    "softwareapplication",
}


def json_ld_items(page: Page) -> list[dict]:
    """Every JSON-LD object on the page, @graph flattened; a broken block is skipped."""
    items: list[dict] = []
    for script in page.soup.find_all("script", type=lambda t: t and "ld+json" in t.lower()):
        raw = (script.string or script.get_text() or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except json.JSONDecodeError as error:
            page.warnings.append(f"skipped a malformed JSON-LD block: {error.msg}")
            continue
        items.extend(_flatten(data))
    return items


def _flatten(data: object) -> Iterator[dict]:
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten(data["@graph"])
        yield data


def microdata_items(page: Page) -> list[dict]:
    if "itemscope" not in page.html:
        return []  # the common case; microdata parsing is a second pass over the page
    from extruct.w3cmicrodata import MicrodataExtractor

    try:
        items = MicrodataExtractor().extract(page.html, base_url=page.url)
    except (ValueError, TypeError) as error:  # extruct raises these on odd markup
        page.warnings.append(f"skipped unreadable microdata: {error}")
        return []
    return [_microdata_to_ld(item) for item in items]


def _microdata_to_ld(item: dict) -> dict:
    kind = item.get("type", "")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    props = dict(item.get("properties", {}))
    for key, value in props.items():
        if isinstance(value, dict) and "properties" in value:
            props[key] = _microdata_to_ld(value)
    return {"@type": str(kind).rsplit("/", 1)[-1], **props}


def types_of(item: dict) -> set[str]:
    kind = item.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).rsplit("/", 1)[-1].lower() for k in kinds}


def extract_structured(page: Page, items: list[tuple[str, dict]]) -> list[ExtractedValue]:
    values: list[ExtractedValue] = []
    for extractor, item in items:
        if types_of(item) & ORGANIZATION_TYPES:
            values.extend(_organization(item, extractor))
    values.extend(_opengraph(page))
    return values


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url") or ""
    if isinstance(value, list):
        return _text(value[0]) if value else ""
    return clean(str(value), 2000)


def _organization(item: dict, extractor: str) -> list[ExtractedValue]:
    evidence = clean(
        json.dumps(
            {k: v for k, v in item.items() if not k.startswith("@")},
            ensure_ascii=False,
            default=str,
        ),
        300,
    )

    def value(field_name: str, raw: object, confidence: float = 0.95) -> ExtractedValue:
        return ExtractedValue(field_name, raw, evidence, confidence, extractor, "structured")

    out = []
    for field_name, key in (
        ("name", "name"),
        ("description", "description"),
        ("industry", "industry"),
        ("founded", "foundingDate"),
        ("logo", "logo"),
        ("phone", "telephone"),
        ("email", "email"),
    ):
        text = _text(item.get(key))
        if field_name == "phone":
            text = e164(text) or text
        if text:
            out.append(value(field_name, text.removeprefix("mailto:")))
    if not item.get("industry") and item.get("knowsAbout"):
        out.append(value("industry", _text(item["knowsAbout"]), 0.6))
    employees = item.get("numberOfEmployees")
    if isinstance(employees, dict):
        employees = employees.get("value") or employees.get("maxValue") or employees.get("minValue")
    if str(employees or "").strip().isdigit():
        out.append(value("employee_count", int(str(employees).strip())))
    same_as = item.get("sameAs") or []
    for url in same_as if isinstance(same_as, list) else [same_as]:
        social = social_value(str(url))
        if social:
            out.append(value("social", social))
    out.extend(_address(item.get("address"), value))
    return out


def _address(address: object, value) -> list[ExtractedValue]:
    if isinstance(address, list):
        address = address[0] if address else None
    if isinstance(address, str):
        return [value("location", clean(address, 200), 0.8)]
    if not isinstance(address, dict):
        return []
    parts = [_text(address.get(k)) for k in ("addressLocality", "addressRegion")]
    country = _text(address.get("addressCountry"))
    location = ", ".join(p for p in [*parts, country] if p)
    out = [value("location", location)] if location else []
    if len(country) == 2 and country.isalpha():
        out.append(value("country", country.upper()))
    street = _text(address.get("streetAddress"))
    if street:
        out.append(value("address", ", ".join(p for p in [street, location] if p), 0.9))
    return out


def _opengraph(page: Page) -> list[ExtractedValue]:
    out = []
    site_name = page.meta("og:site_name")
    if site_name:
        out.append(
            ExtractedValue(
                "name", site_name, f'og:site_name="{site_name}"', 0.8, "opengraph", "structured"
            )
        )
    description = page.meta("og:description")
    if description:
        out.append(
            ExtractedValue(
                "description",
                description,
                f'og:description="{clean(description)}"',
                0.7,
                "opengraph",
                "structured",
            )
        )
    return out


def extract_meta(page: Page, page_kind: str) -> list[ExtractedValue]:
    out = []
    title = clean(page.soup.title.get_text() if page.soup.title else "", 200)
    name = _brand(_split_title(title), page.domain, trust_first=page_kind == "home")
    if name:
        out.append(ExtractedValue("name", name, f"<title>{title}</title>", 0.5, "meta"))
    description = page.meta("description")
    if description:
        out.append(
            ExtractedValue(
                "description", description, f'meta description="{clean(description)}"', 0.6, "meta"
            )
        )
    return out


_GENERIC = {
    "home",
    "homepage",
    "welcome",
    "about",
    "about us",
    "blog",
    "news",
    "careers",
    "jobs",
    "team",
    "contact",
    "press",
}


def _brand(parts: list[str], domain: str, *, trust_first: bool) -> str:
    """ "Home | Acme Robotics" -> "Acme Robotics": the part that names the site's domain.
    On the home page the first non-generic part will do; inner pages are titled after
    themselves ("Leadership"), so there nothing else is taken."""
    stem = re.sub(r"[^a-z0-9]", "", domain.split(".")[0])
    candidates = [p.strip() for p in parts if p.strip() and p.strip().lower() not in _GENERIC]
    for part in candidates:
        squashed = re.sub(r"[^a-z0-9]", "", part.lower())
        if stem and squashed and (stem in squashed or squashed in stem):
            return part
    return candidates[0] if candidates and trust_first else ""


def _split_title(title: str) -> list[str]:
    for separator in (" | ", " – ", " — ", " - ", " · ", ": "):
        if separator in title:
            return [part for part in title.split(separator) if part.strip()]
    return [title]
