"""No row may point at another workspace's row: the check run after every database test.

Built from model metadata, so a new model or relation is covered without touching this
file: every model with a `workspace` foreign key (each TenantModel, and WorkspaceAPIKey)
and each of its foreign keys and many-to-many fields to another such model is one SELECT
that joins the relation and compares the two rows' `workspace_id`. The SELECTs are sent
as one UNION ALL statement: one round trip per test, whatever the number of relations.

Not covered, because they are not relations the database knows about: ids kept in text
or JSON (`Activity.object_id`, `LLMCall.subject_id`, `Outcome.evidence_id`,
`Company.field_sources`, `Message.angle`), and references to users (a user is not a row
of a workspace).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import psycopg
from django.apps import apps
from django.db import connection, models

from sdr.models import Workspace

# Rows reported per relation: enough to see the pattern, short enough to read.
REPORT_LIMIT = 10


@dataclass(frozen=True)
class CrossReference:
    relation: str  # "leads.Lead.company"
    row_id: str
    row_workspace: str
    target_id: str
    target_workspace: str

    def __str__(self) -> str:
        return (
            f"{self.relation}: row {self.row_id} (workspace {self.row_workspace}) points at "
            f"{self.target_id} (workspace {self.target_workspace})"
        )


def is_workspace_owned(model: type[models.Model]) -> bool:
    try:
        field = model._meta.get_field("workspace")
    except Exception:  # FieldDoesNotExist, and models without _meta fields of that name
        return False
    return bool(field.many_to_one and field.related_model is Workspace)


def owned_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if is_workspace_owned(model) and not model._meta.proxy and model._meta.managed
    ]


def relations() -> list[tuple[str, str]]:
    """(label, SELECT) for every relation between two workspace-owned models.

    The SQL is put together from table and column names of the models, quoted; no value
    from outside goes into it (hence the S608 exemptions)."""
    qn = connection.ops.quote_name
    selects = []
    for model in owned_models():
        table = qn(model._meta.db_table)
        pk = qn(model._meta.pk.column)
        for field in model._meta.get_fields():
            if field.name == "workspace" or not getattr(field, "concrete", False):
                continue
            target = field.related_model
            if target is None or not is_workspace_owned(target):
                continue
            label = f"{model._meta.label}.{field.name}"
            target_table = qn(target._meta.db_table)
            target_pk = qn(target._meta.pk.column)
            if field.many_to_one or field.one_to_one:
                selects.append(
                    (
                        label,
                        f"SELECT CAST(t.{pk} AS text), CAST(t.workspace_id AS text), "  # noqa: S608
                        f"CAST(r.{target_pk} AS text), CAST(r.workspace_id AS text) "
                        f"FROM {table} t JOIN {target_table} r "
                        f"ON r.{target_pk} = t.{qn(field.column)} "
                        f"WHERE r.workspace_id <> t.workspace_id",
                    )
                )
            elif field.many_to_many:
                through = qn(field.remote_field.through._meta.db_table)
                source, target_column = qn(field.m2m_column_name()), qn(field.m2m_reverse_name())
                selects.append(
                    (
                        label,
                        f"SELECT CAST(t.{pk} AS text), CAST(t.workspace_id AS text), "  # noqa: S608
                        f"CAST(r.{target_pk} AS text), CAST(r.workspace_id AS text) "
                        f"FROM {through} m "
                        f"JOIN {table} t ON t.{pk} = m.{source} "
                        f"JOIN {target_table} r ON r.{target_pk} = m.{target_column} "
                        f"WHERE r.workspace_id <> t.workspace_id",
                    )
                )
    return selects


@functools.cache
def _statement() -> tuple[str, list[str]]:
    """Built once per run: the models do not change while the tests run."""
    found = relations()
    statement = " UNION ALL ".join(
        f"(SELECT %s, q.* FROM ({select}) q LIMIT {REPORT_LIMIT})"  # noqa: S608
        for _, select in found
    )
    return statement, [label for label, _ in found]


def cross_workspace_references() -> list[CrossReference]:
    """Every row (up to REPORT_LIMIT per relation) that points at another workspace's row."""
    statement, labels = _statement()
    if not statement:
        return []
    with connection.cursor() as cursor:
        cursor.execute(statement, labels)
        return [CrossReference(*row) for row in cursor.fetchall()]


def cross_workspace_report(found: list[CrossReference]) -> str:
    return "Rows point at another workspace's rows:\n" + "\n".join(f"  {ref}" for ref in found)


def uses_database(item: Any) -> bool:
    """Whether a pytest item ran with the database (marker, or a fixture that needs it)."""
    return item.get_closest_marker("django_db") is not None or (
        "_django_db_helper" in getattr(item, "fixturenames", ())
    )


def database_readable() -> bool:
    """False when the test left its transaction unusable (an error it expected inside
    `atomic`): nothing can be read, and all of it is rolled back anyway."""
    if connection.in_atomic_block and connection.needs_rollback:
        return False
    raw = connection.connection
    return raw is None or raw.info.transaction_status != psycopg.pq.TransactionStatus.INERROR


def check_after_test(item: Any) -> str | None:
    """What the after-test check reports for a test (None when all is well)."""
    if not uses_database(item) or not database_readable():
        return None
    found = cross_workspace_references()
    return cross_workspace_report(found) if found else None
