"""Structured items a page publishes about itself (JSON-LD and microdata) as plain dicts.

Microdata items are reshaped to look like JSON-LD ({"@type": "Organization", "name": ...}),
so every extractor reads one shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lxml.etree import LxmlError

from leads.extraction.tree import Element, text

Item = dict[str, object]
# schema.org's Organization and the subtypes small companies use most (LocalBusiness has
# dozens; these cover the sites we see). A SoftwareApplication or Product names a product,
# not the company, so they are not here.
ORGANIZATION_TYPES = (
    "organization",
    "corporation",
    "localbusiness",
    "onlinebusiness",
    "onlinestore",
    "professionalservice",
    "ngo",
    "educationalorganization",
    "medicalorganization",
    "medicalbusiness",
    "medicalclinic",
    "dentist",
    "store",
    "bakery",
    "restaurant",
    "cafeorcoffeeshop",
    "foodestablishment",
    "legalservice",
    "attorney",
    "accountingservice",
    "financialservice",
    "realestateagent",
    "homeandconstructionbusiness",
    "automotivebusiness",
    "lodgingbusiness",
    "hotel",
    "travelagency",
    "employmentagency",
    "sportsorganization",
    "newsmediaorganization",
    "airline",
)
_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
MAX_ITEMS = 200


def json_ld_items(scripts: list[Element], warnings: list[str]) -> list[Item]:
    """Every JSON-LD object in the page's ld+json scripts; a block that cannot be read is
    skipped with a warning and the others are kept."""
    items: list[Item] = []
    for script in scripts:
        if "ld+json" not in str(script.get("type", "")).lower():
            continue
        raw = text(script).strip()
        if not raw:
            continue
        try:
            items.extend(_flatten(_lenient_json(raw)))
        except json.JSONDecodeError as error:
            warnings.append(f"skipped a malformed JSON-LD block: {error.msg} at char {error.pos}")
        except RecursionError:  # "[[[[..." thousands deep: hostile or broken, never data
            warnings.append("skipped a JSON-LD block nested too deeply to read")
    return items[:MAX_ITEMS]


def _lenient_json(raw: str) -> object:
    try:
        return json.loads(raw, strict=False)  # strict=False: raw newlines inside strings
    except json.JSONDecodeError as first:
        # What hand-edited blocks get wrong most: HTML comment or CDATA wrappers left from
        # old templates, and a trailing comma after the last property.
        repaired = _TRAILING_COMMA.sub(r"\1", _WRAPPER.sub("", raw))
        try:
            return json.loads(repaired, strict=False)
        except json.JSONDecodeError:
            raise first from None


def _flatten(data: object) -> Iterator[Item]:
    """Top-level objects, @graph members and ItemList elements, depth first."""
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item)
    elif isinstance(data, dict):
        if "@graph" in data:
            yield from _flatten(data["@graph"])
        if "itemlist" in types_of(data):
            for element in as_list(data.get("itemListElement")):
                inner = element.get("item") if isinstance(element, dict) else None
                yield from _flatten(inner if isinstance(inner, dict) else element)
        if "@type" in data:
            yield data


def microdata_items(html: str, url: str, warnings: list[str]) -> list[Item]:
    # extruct walks its own lxml tree of the page: a second parse, but lxml's C parser costs
    # about a twentieth of the BeautifulSoup tree, and only pages that use microdata pay it.
    if "itemscope" not in html:
        return []
    # Imported on first use: the extruct package loads rdflib, about 170 ms at start-up,
    # for a format most pages do not use.
    from extruct.w3cmicrodata import MicrodataExtractor

    try:
        items = MicrodataExtractor().extract(html, base_url=url)
    except (LxmlError, ValueError, TypeError, AttributeError) as error:
        # How extruct fails on odd markup: lxml finding no document in it, or extruct
        # tripping over an element shape it does not expect.
        warnings.append(f"skipped unreadable microdata: {type(error).__name__}")
        return []
    return [_as_json_ld(item) for item in items if isinstance(item, dict)][:MAX_ITEMS]


def _as_json_ld(item: dict) -> Item:
    kind = item.get("type", "")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    shaped: Item = {"@type": str(kind).rsplit("/", 1)[-1]}
    for key, value in item.get("properties", {}).items():
        shaped[key] = _property(value)
    return shaped


def _property(value: object) -> object:
    if isinstance(value, list):
        return [_property(v) for v in value]
    if isinstance(value, dict) and "properties" in value:
        return _as_json_ld(value)
    return value


def types_of(item: dict) -> set[str]:
    """An item's types, lowercased and without their vocabulary: {"organization"}."""
    return {str(k).rsplit("/", 1)[-1].lower() for k in as_list(item.get("@type"))}


def as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value: object, limit: int = 2000) -> str:
    """A property's text: plain values as they are, objects by their name, value or url."""
    if isinstance(value, list):
        return text_of(value[0], limit) if value else ""
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url") or ""
        return text_of(value, limit)
    return " ".join(str(value if value is not None else "").split())[:limit]
