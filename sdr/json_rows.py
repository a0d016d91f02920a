"""List pages whose rows PostgreSQL writes as JSON, for the sync API's busiest lists.

Reading fifty rows of two dozen typed columns into Python (timestamps parsed, UUIDs and
JSON decoded) and writing them out again as JSON was most of a leads page's time: about
110-140 µs a row in-process, so 7 of a first page's 12 ms, and about 65 ms for a page of
500 (14 ms now). Here PostgreSQL writes each row's JSON (`json_build_object`) in the
query that reads it, and the page is put together around the rows' text. The output
serializer stays the contract and the schema's source: each list's test compares the two
on varied rows.

On SQLite (the demo) the same expressions are not available: the views keep their
serializers there.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import (
    DateTimeField,
    EmailField,
    F,
    Func,
    Model,
    TextField,
    URLField,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import HttpResponse
from rest_framework.pagination import BasePagination


def rows_as_json() -> bool:
    """Whether the database can write the rows (PostgreSQL)."""
    return connection.vendor == "postgresql"


_KEY: TextField[str, str] = TextField()
BLANK = Value("", output_field=_KEY)


class JsonObject(Func):
    """`json_build_object(name, value, ...)` as text: one JSON object a row, with the
    keys in the order given (json, not jsonb, which would sort them)."""

    function = "json_build_object"
    template = "%(function)s(%(expressions)s)::text"
    output_field = TextField()

    def __init__(self, fields: dict[str, Any]) -> None:
        pairs: list[Any] = []
        for name, expression in fields.items():
            # The key's field given, not inferred: inferring made a CharField for each key
            # of each query, a tenth of a small page's time.
            pairs += [Value(name, output_field=_KEY), expression]
        super().__init__(*pairs)


class JsonNested(JsonObject):
    """`JsonObject` as json, for an object inside another."""

    template = "%(function)s(%(expressions)s)"


def fields_json(model: type[Model], names: list[str], **special: Any) -> dict[str, Any]:
    """What a serializer's `names` (its fields, in its order) write, as expressions for
    JsonObject: the model's timestamps as DRF writes them, its blank email and URL fields
    as null (as sdr.api_base.WorkspaceSerializer gives them), a foreign key as its id, any
    other column as it is; `special` for the fields that are no column of the model."""
    written: dict[str, Any] = {}
    for name in names:
        if name in special:
            written[name] = special[name]
            continue
        field = model._meta.get_field(name)
        if isinstance(field, DateTimeField):
            written[name] = IsoDatetime(name)
        elif isinstance(field, EmailField | URLField) and field.blank:
            written[name] = blank_as_null(name)
        else:
            written[name] = F(field.attname)  # type: ignore[union-attr]
    return written


def blank_as_null(column: str) -> NullIf:
    """A text column whose "" is written as null (the serializers' EmptyAsNull fields)."""
    return NullIf(F(column), BLANK)


def blank_if_null(column: str) -> Coalesce:
    """A text column of a joined row that may be missing, written as "" then."""
    return Coalesce(F(column), BLANK)


class IsoDatetime(Func):
    """A timestamp as DRF writes it with TIME_ZONE = "UTC": `2026-12-01T10:00:00.123456Z`,
    without the fraction when it is zero (as `datetime.isoformat`); NULL stays NULL."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        "CASE WHEN to_char(%(expressions)s, 'US') = '000000' THEN '' "
        "ELSE to_char(%(expressions)s, '.US') END || 'Z'"
    )
    output_field = TextField()

    def __init__(self, column: str) -> None:
        # A column only: the template names it three times, which a parameter could not be.
        super().__init__(F(column))


def page_response(paginator: BasePagination | None, rows: list[str]) -> HttpResponse:
    """The paginator's page of rows written by PostgreSQL, in the shape of its
    `get_paginated_response` (the API answers in JSON only: settings.REST_FRAMEWORK)."""
    assert paginator is not None  # the view paginated the rows
    links = json.dumps(
        {"next": paginator.get_next_link(), "previous": paginator.get_previous_link()},  # type: ignore[attr-defined]
        separators=(",", ":"),
    )
    body = f'{links[:-1]},"results":[{",".join(rows)}]}}'
    return HttpResponse(body.encode(), content_type="application/json")
