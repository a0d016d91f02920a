"""What a site says about itself in structured data: JSON-LD and microdata Organization
items, and OpenGraph tags. The most trusted source a page has."""

from __future__ import annotations

import json
from collections.abc import Callable

from leads.extraction.contacts import e164, valid_email
from leads.extraction.items import ORGANIZATION_TYPES, Item, as_list, text_of
from leads.extraction.page import Page
from leads.extraction.socials import social_value
from leads.extraction.text import clean
from leads.extraction.types import ExtractedValue, Found

CONFIDENCE = {"jsonld": 0.95, "microdata": 0.9}
# Country names sites write instead of the ISO code schema.org asks for.
COUNTRY_CODES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "ireland": "IE",
    "canada": "CA",
    "australia": "AU",
    "new zealand": "NZ",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "spain": "ES",
    "portugal": "PT",
    "italy": "IT",
    "switzerland": "CH",
    "austria": "AT",
    "sweden": "SE",
    "norway": "NO",
    "denmark": "DK",
    "finland": "FI",
    "poland": "PL",
    "israel": "IL",
    "india": "IN",
    "singapore": "SG",
    "japan": "JP",
    "brazil": "BR",
    "mexico": "MX",
}

Make = Callable[..., ExtractedValue]


def extract(page: Page) -> Found:
    values: list[ExtractedValue] = []
    for source, item in page.items_of(*ORGANIZATION_TYPES):
        values += organization_values(item, source, page)
    return Found(values=values + _opengraph(page))


def organization_values(item: Item, source: str, page: Page) -> list[ExtractedValue]:
    kind = text_of(item.get("@type"), 60)
    confidence = CONFIDENCE[source]

    def make(field: str, value: object, key: str, weight: float = 1.0) -> ExtractedValue:
        # The evidence is the property as published: `jsonld Organization.address: {...}`.
        raw = json.dumps(item.get(key), ensure_ascii=False, default=str)
        evidence = clean(f"{source} {kind}.{key}: {raw}", 300)
        return ExtractedValue(
            field, value, evidence, round(confidence * weight, 2), source, "structured"
        )

    values = [
        make(field, text, field)
        for field in ("name", "description", "industry")
        if (text := text_of(item.get(field)))
    ]
    if not item.get("industry") and item.get("knowsAbout"):
        values.append(make("industry", text_of(item["knowsAbout"], 120), "knowsAbout", 0.6))
    values += _contacts(item, make, page)
    values += _company_facts(item, make, page)
    for url in as_list(item.get("sameAs")):
        social = social_value(str(url))
        if social:
            values.append(make("social", social, "sameAs"))
    return values + _address(item.get("address"), make)


def _contacts(item: Item, make: Make, page: Page) -> list[ExtractedValue]:
    out = []
    phone = e164(text_of(item.get("telephone")), page.phone_region)
    if phone:
        out.append(make("phone", phone, "telephone"))
    email = valid_email(text_of(item.get("email")).removeprefix("mailto:"))
    if email:
        out.append(make("email", email, "email"))
    return out


def _company_facts(item: Item, make: Make, page: Page) -> list[ExtractedValue]:
    out = []
    founded = text_of(item.get("foundingDate"))[:4]
    if founded.isdigit():
        out.append(make("founded", int(founded), "foundingDate"))
    employees = _employee_count(item.get("numberOfEmployees"))
    if employees is not None:
        out.append(make("employee_count", employees, "numberOfEmployees"))
    logo = item.get("logo")
    if isinstance(logo, dict):  # an ImageObject
        logo = logo.get("url") or logo.get("contentUrl")
    logo_url = page.absolute(text_of(logo))
    if logo_url:
        out.append(make("logo", logo_url, "logo"))
    return out


def _employee_count(value: object) -> int | None:
    """85, "85", "1,200", or a QuantitativeValue (a range counts as its midpoint)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        if value.get("value") is not None:
            value = value["value"]
        else:
            bounds = [_employee_count(value.get(k)) for k in ("minValue", "maxValue")]
            known = [b for b in bounds if b is not None]
            return sum(known) // len(known) if known else None
    text = str(value if value is not None else "").replace(",", "").strip()
    return int(text) if text.isdigit() else None


def _address(address: object, make: Make) -> list[ExtractedValue]:
    if isinstance(address, list):
        address = address[0] if address else None
    if isinstance(address, str):
        text = clean(address, 200)
        return [make("location", text, "address", 0.85)] if text else []
    if not isinstance(address, dict):
        return []
    country = text_of(address.get("addressCountry"))
    code = country.upper() if len(country) == 2 else COUNTRY_CODES.get(country.lower(), "")
    parts = [text_of(address.get(k)) for k in ("addressLocality", "addressRegion")]
    location = ", ".join(p for p in [*parts, code or country] if p)
    out = [make("location", location, "address")] if location else []
    if code.isalpha():
        out.append(make("country", code, "address"))
    street = text_of(address.get("streetAddress"))
    if street:
        postal = text_of(address.get("postalCode"))
        full = ", ".join(p for p in [street, location, postal] if p)
        out.append(make("address", full, "address", 0.95))
    return out


def _opengraph(page: Page) -> list[ExtractedValue]:
    out = []
    for field, key, confidence in (
        ("name", "og:site_name", 0.8),
        ("description", "og:description", 0.7),
    ):
        text = page.meta(key)
        if text:
            out.append(
                ExtractedValue(
                    field,
                    text,
                    f'{key}="{clean(text, 250)}"',
                    confidence,
                    "opengraph",
                    "structured",
                )
            )
    return out
