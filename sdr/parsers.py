"""The API's request parser: JSON, minus the text PostgreSQL cannot store and the nesting
nothing downstream can handle."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from sdr.edge import storable


class JSONInputParser(JSONParser):
    """JSON, minus the text PostgreSQL cannot store.

    A NUL character or a lone surrogate is valid JSON but not storable text: text and
    jsonb columns refuse it, and the write fails as a 500. DRF's CharField refuses both,
    but dict and list fields (custom fields, example emails, bulk rows) pass them through,
    so they are refused here, once, for every JSON body.

    Nesting is limited too: Python's json module recurses, so 20,000 brackets raise
    RecursionError (a 500), and a document just under the interpreter's limit would fail
    later, when a serializer or the jsonb adapter walks it again. No field of the API
    needs more than a few levels.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        _refuse_unusable(data)
        return data


MAX_DEPTH = 32


def _refuse_unusable(value: Any) -> None:
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            pending.extend((key, depth) for key in item)
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and not storable(item):
            raise ParseError("Text may not contain NUL characters or unpaired surrogates.")
