"""Print what the extractors get from one page: a saved file, or a URL through the safe
fetcher. `--json` prints one object with every value and its evidence."""

from __future__ import annotations

import codecs
import dataclasses
import json
from pathlib import Path
from typing import Any

from bs4.dammit import UnicodeDammit
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leads.extraction import PageExtraction, extract_page
from sdr.fetch import Fetcher, FetchError, decode_html

# Text files may hold NUL bytes only as UTF-16 or UTF-32; anything else with NULs is binary.
_WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


class Command(BaseCommand):
    help = "Extract company facts, signals and people from one page, each with its evidence."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="a file path, or an http(s) URL")
        parser.add_argument(
            "--base-url", help="the URL a saved file came from, to resolve its links against"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, source: str, base_url: str | None, **options: Any) -> None:
        if source.startswith(("http://", "https://")):
            html, url, notes = _fetched(source)
        else:
            html, url, notes = _read_file(Path(source), base_url)
        result = extraction_summary(extract_page(html, url=url))
        result["warnings"] = notes + result["warnings"]
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        else:
            self.stdout.write(human_summary(result))


def _fetched(url: str) -> tuple[str, str, list[str]]:
    try:
        with Fetcher() as fetcher:
            result = fetcher.get(url)
    except FetchError as error:
        raise CommandError(f"Could not fetch {url}: {error}") from None
    notes = ["truncated: the fetcher stopped reading at its size limit"] if result.truncated else []
    return decode_html(result), result.final_url, notes


def _read_file(path: Path, base_url: str | None) -> tuple[str, str, list[str]]:
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a page") from None
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror or error}") from None
    if b"\x00" in content[:8192] and not content.startswith(_WIDE_BOMS):
        raise CommandError(f"{path} is not a text page (it contains binary data)")
    text = UnicodeDammit(content, is_html=True).unicode_markup
    if text is None:
        raise CommandError(f"{path}: cannot tell which text encoding it is in")
    return text, base_url or path.resolve().as_uri(), []


def extraction_summary(extraction: PageExtraction) -> dict[str, Any]:
    """The page's best value per field, every value of list fields, and the full list."""
    values = [dataclasses.asdict(v) for v in extraction.values]

    def best(field: str) -> dict[str, Any] | None:
        found = [v for v in values if v["field"] == field]
        return max(found, key=lambda v: v["confidence"]) if found else None

    def every(field: str) -> list[dict[str, Any]]:
        return [v for v in values if v["field"] == field]

    return {
        "url": extraction.url,
        "page_kind": extraction.page_kind,
        "name": best("name"),
        "description": best("description"),
        "industry": best("industry"),
        "location": best("location"),
        "employee_count": best("employee_count"),
        "socials": every("social"),
        "emails": every("email"),
        "phones": every("phone"),
        "tech": every("tech"),
        "open_roles": every("open_role"),
        "signals": [dataclasses.asdict(s) for s in extraction.signals],
        "people": [dataclasses.asdict(p) for p in extraction.people],
        "links": extraction.links,
        "warnings": extraction.warnings,
        "values": values,
    }


def human_summary(result: dict[str, Any]) -> str:
    lines = [f"{result['url']} ({result['page_kind']} page)"]
    for key in ("name", "description", "industry", "location", "employee_count"):
        if result[key]:
            lines.append(f"  {key}: {result[key]['value']}  [{result[key]['extractor']}]")
    for key in ("emails", "phones", "tech"):
        if result[key]:
            lines.append(
                f"  {key}: " + ", ".join(dict.fromkeys(str(v["value"]) for v in result[key]))
            )
    socials = dict.fromkeys(v["value"]["url"] for v in result["socials"])
    if socials:
        lines.append("  socials: " + ", ".join(socials))
    for role in result["open_roles"]:
        lines.append(
            f"  open role: {role['value']['title']} ({role['value']['department'] or '?'})"
        )
    for signal in result["signals"]:
        when = f" on {signal['happened_on']}" if signal["happened_on"] else ""
        lines.append(f"  signal {signal['kind']}{when}: {signal['title']}")
    for person in result["people"]:
        lines.append(f"  person: {person['name']}, {person['title']}")
    for kind, urls in result["links"].items():
        lines.append(f"  links to {kind}: {len(urls)}")
    for warning in result["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
