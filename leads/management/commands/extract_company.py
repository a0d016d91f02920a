"""Print what the extractors get from one page: a file, or a URL through the safe fetcher."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bs4.dammit import UnicodeDammit
from django.core.management.base import BaseCommand, CommandError

from leads.extraction import PageExtraction, extract_page
from sdr.fetch import Fetcher, FetchError, decode_html


class Command(BaseCommand):
    help = "Extract company facts, signals and people from one page, each with its evidence."

    def add_arguments(self, parser):
        parser.add_argument("source", help="a file path, or an http(s) URL")
        parser.add_argument("--base-url", help="the URL a file was saved from (for its links)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, source: str, base_url: str | None, json: bool, **options):
        html, url = self._read(source, base_url)
        extraction = extract_page(html, url=url)
        result = extraction_summary(extraction)
        if json:
            self.stdout.write(_dumps(result))
        else:
            self._print(result)

    def _read(self, source: str, base_url: str | None) -> tuple[str, str]:
        if source.startswith(("http://", "https://")):
            try:
                with Fetcher() as fetcher:
                    result = fetcher.get(source)
            except FetchError as error:
                raise CommandError(f"Could not fetch {source}: {error}") from None
            return decode_html(result), result.final_url
        path = Path(source)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise CommandError(f"No such file: {source}") from None
        except IsADirectoryError:
            raise CommandError(f"{source} is a directory, not a page") from None
        if b"\x00" in content[:8192]:
            raise CommandError(f"{source} is not a text page (it contains binary data)")
        text = UnicodeDammit(content, is_html=True).unicode_markup
        if text is None:
            raise CommandError(f"{source}: cannot tell which text encoding it is in")
        return text, base_url or path.resolve().as_uri()

    def _print(self, result: dict[str, Any]) -> None:
        self.stdout.write(f"{result['url']} ({result['page_kind']})")
        for key in ("name", "description", "emails", "phones", "tech", "socials"):
            if result[key]:
                self.stdout.write(f"  {key}: {result[key]}")
        for signal in result["signals"]:
            self.stdout.write(f"  signal {signal['kind']}: {signal['title']}")
        for person in result["people"]:
            self.stdout.write(f"  person: {person['name']}, {person['title']}")
        for warning in result["warnings"]:
            self.stdout.write(f"  warning: {warning}")


def extraction_summary(extraction: PageExtraction) -> dict[str, Any]:
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


def _dumps(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False, default=str)
