"""Many rows updated with their own values in one statement."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def rows_update(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str]
) -> None:
    """Write `fields` of each row, as Django's bulk_update does. On PostgreSQL one UPDATE
    joins the rows from arrays: bulk_update builds a CASE per field and row, whose
    compiling cost more than the statement (14 of the 52 s of a 100,000-row import went
    to it; on a send, more than the SMTP exchange). SQLite (the demo) keeps bulk_update."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._base_manager.bulk_update(rows, fields, batch_size=1000)
        return
    concrete = {field.name: field for field in model._meta.concrete_fields}
    columns = [concrete[name] for name in fields]
    # Every value goes as text and is cast to its column's type (NULL stays NULL). Not to
    # varchar(n): that cast truncates, where assigning text refuses a value too long.
    casts = [str(column.db_type(connection)) for column in columns]
    sets = ", ".join(
        f"{connection.ops.quote_name(str(column.column))} = v.c{i}"
        + ("" if cast.startswith("varchar") else f"::{cast}")
        for i, (column, cast) in enumerate(zip(columns, casts, strict=True))
    )
    arrays: list[list[str | None]] = [[str(row.pk) for row in rows]]
    arrays += [[_as_text(c, getattr(row, c.attname)) for row in rows] for c in columns]
    names = ", ".join(["id", *(f"c{i}" for i in range(len(columns)))])
    unnest = ", ".join(["%s::text[]"] * len(arrays))
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(str(model._meta.pk.column))
    pk_type = str(model._meta.pk.db_type(connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {sets} "  # noqa: S608 - our own names; values are parameters
            f"FROM unnest({unnest}) AS v({names}) WHERE t.{pk} = v.id::{pk_type}",
            arrays,
        )


def _as_text(column: models.Field, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(column, models.JSONField):
        return json.dumps(value, cls=column.encoder)
    return str(value)
