"""The API's request parser: JSON, minus the text PostgreSQL cannot store."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONInputParser(JSONParser):
    """JSON, minus the text PostgreSQL cannot store.

    A NUL character or a lone surrogate is valid JSON but not storable text: text and
    jsonb columns refuse it, and the write fails as a 500. DRF's CharField refuses both,
    but dict and list fields (custom fields, example emails, bulk rows) pass them through,
    so they are refused here, once, for every JSON body.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_unstorable_text(data)
        return data


def _refuse_unstorable_text(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and not _storable(item):
            raise ParseError("Text may not contain NUL characters or unpaired surrogates.")


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
