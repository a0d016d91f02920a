"""Many rows written with their own values in one statement: Django's bulk_create and
bulk_update, without their cost per value on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from operator import attrgetter
from typing import Any

from django.db import connection, models, transaction

# Below this many rows, bulk_create: a temporary table costs more than it saves.
COPY_FROM = 200
# Values of these exact field types go to COPY as they are; any other (JSON, an encrypted
# field) through its own get_db_prep_save, as bulk_create does for every value.
_AS_THEY_ARE = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.DateTimeField,
    models.EmailField,
    models.FloatField,
    models.ForeignKey,
    models.IntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
    models.URLField,
    models.UUIDField,
}


def rows_insert(
    model: type[models.Model], rows: Sequence[models.Model], *, ignore_conflicts: bool = False
) -> None:
    """Insert the rows, as bulk_create does, for a model whose keys are made here (a UUID),
    not by the server; with `ignore_conflicts`, a row that breaks a unique constraint is
    skipped. On PostgreSQL, from COPY into a temporary table and one INSERT ... SELECT:
    bulk_create prepares every value through its field and binds them as arrays, which
    took more time than the rest of an import's write. Not straight into the table:
    PostgreSQL refuses COPY into a table with row-level security, where an INSERT checks
    each row against the policy as any insert does."""
    if isinstance(model._meta.pk, models.AutoField):
        raise ValueError(f"{model.__name__}'s keys are made by the server: use bulk_create.")
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        model._base_manager.bulk_create(rows, batch_size=1000, ignore_conflicts=ignore_conflicts)
        return
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    staging = quote(f"rows_insert_{uuid.uuid4().hex[:12]}")
    columns = ", ".join(quote(str(f.column)) for f in fields)
    # Inside a transaction (the caller's, when there is one) for ON COMMIT DROP to wait.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # The columns' types only: no constraint, key or policy of the table's.
        cursor.execute(
            f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS "  # noqa: S608 - our own names
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        values = [_db_value(f) for f in fields]
        with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([value(row) for value in values])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"  # noqa: S608 - our own names
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
        )
    for row in rows:
        row._state.adding, row._state.db = False, connection.alias


def _db_value(field: models.Field) -> Callable[[models.Model], Any]:
    """What gives a row's value of `field` for the database: chosen once per field, not
    per value (a 1,000-row batch of leads has 23,000 values)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return partial(field.pre_save, add=True)
    if type(field) in _AS_THEY_ARE:
        return attrgetter(field.attname)
    return lambda row: field.get_db_prep_save(getattr(row, field.attname), connection)


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
