"""PostgreSQL row-level security: the second wall behind the tenant manager.

Every table of a `TenantModel` has a policy: a row is seen and written only while the
session's `sdr.workspace_id` names its workspace. The product acts as `DATABASE_ROLE`, a
role that owns no table and does not bypass row-level security, so a query that forgot
`for_workspace` still sees one workspace at most, and a raw query with no workspace set
sees nothing.

What the connection acts as is a *scope*, kept in a context variable and applied to the
connection when the scope changes (and to every new connection):

- `workspace_scope(ws)`: `DATABASE_ROLE`, `sdr.workspace_id` = ws. Requests, tasks and
  commands that act for one customer.
- `no_workspace()`: `DATABASE_ROLE` and no workspace: tenant tables are empty. Where every
  request and every task starts, before it has said whom it acts for.
- `cross_workspace()`: `DATABASE_CROSS_WORKSPACE_ROLE`, which bypasses row-level security
  and owns nothing either. The few jobs that must read across customers: the admin, the
  sweeper, beat's passes that find due work in every workspace, and the lookups by a
  public token (an unsubscribe link, a Stripe customer id) that find whose row it is.
- `owner()`: the role the process logged in as; migrations and the test database's setup.

Tables without a workspace column have no policy: workspaces themselves, memberships and
API keys (looked up by user or key before a workspace is known), idempotency records,
rate buckets and Stripe's event log.

With `DATABASE_ROLE` unset (the SQLite demo, or a process that logs in as the owner),
scopes change nothing but the session variable, and nothing is enforced by the database.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

WORKSPACE_SETTING = "sdr.workspace_id"
# Versioned: a change to the policy's expression takes a new name, and `migrate` then
# replaces the old one on every table (see policies_install).
POLICY_PREFIX = "workspace_isolation"
POLICY_NAME = POLICY_PREFIX + "_v1"


class Act(enum.Enum):
    TENANT = "tenant"
    CROSS = "cross"
    OWNER = "owner"


@dataclass(frozen=True)
class Scope:
    act: Act
    workspace_id: str = ""


NO_WORKSPACE = Scope(Act.TENANT)
# Outside any scope(), a thread acts as the process's default: no workspace, except in
# the test process (see default_set). A context variable, so each thread and each
# request has its own.
_process_default = NO_WORKSPACE
_scope: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("sdr_rls_scope", default=None)


def current() -> Scope:
    return _scope.get() or _process_default


@contextlib.contextmanager
def scope(new: Scope) -> Iterator[Scope]:
    token = _scope.set(new)
    _apply_if_connected()
    try:
        yield new
    finally:
        _scope.reset(token)
        _apply_if_connected()


def workspace_scope(workspace: Any) -> contextlib.AbstractContextManager[Scope]:
    """Act for one workspace (a Workspace, its id, or None for none)."""
    return scope(_tenant(workspace))


def no_workspace() -> contextlib.AbstractContextManager[Scope]:
    return scope(NO_WORKSPACE)


def cross_workspace() -> contextlib.AbstractContextManager[Scope]:
    return scope(CROSS)


def owner() -> contextlib.AbstractContextManager[Scope]:
    return scope(OWNER)


def default_set(new: Scope) -> None:
    """Make `new` the scope of every thread outside any `scope()`: the test process sets
    up its fixtures across workspaces, as the admin would (its threads too, which stand
    for workers), while every request, task and command under test sets its own."""
    global _process_default
    _process_default = new
    _apply_if_connected()


CROSS = Scope(Act.CROSS)
OWNER = Scope(Act.OWNER)


def switch_to(workspace: Any) -> None:
    """Act for `workspace` until the enclosing scope ends: an API request learns its
    workspace from the key only once DRF has authenticated it, inside the request's scope."""
    _scope.set(_tenant(workspace))
    _apply_if_connected()


def workspace_of(model: type[Any], row_id: Any) -> contextlib.AbstractContextManager[Scope]:
    """Act for the workspace that owns `model` row `row_id` (none if there is no such row).

    For tasks, which are handed an id: finding whose row it is reads across workspaces,
    one indexed column of one row; everything after runs inside that workspace.
    """
    with cross_workspace():
        workspace_id = (
            model.unscoped_objects.filter(pk=row_id).values_list("workspace_id", flat=True).first()
        )
    return workspace_scope(workspace_id)


def _tenant(workspace: Any) -> Scope:
    if workspace is None:
        return NO_WORKSPACE
    workspace_id = getattr(workspace, "pk", workspace)
    # A uuid.UUID or its text; anything else is a bug, and must not reach the SQL.
    return Scope(Act.TENANT, str(uuid.UUID(str(workspace_id))))


def _role_for(act: Act) -> str | None:
    """The role to SET, or None for RESET ROLE (the login role)."""
    if act is Act.OWNER:
        return None
    if act is Act.CROSS:
        # Without a cross-workspace role, the login role: the owner in development; a
        # misconfiguration where the login is the app role (`check --deploy` says so).
        return settings.DATABASE_CROSS_WORKSPACE_ROLE or None
    return settings.DATABASE_ROLE or None


def _statement(active: Scope) -> Any:
    from psycopg import sql

    role = _role_for(active.act)
    set_role = (
        sql.SQL("SET ROLE {}").format(sql.Identifier(role)) if role else sql.SQL("RESET ROLE")
    )
    return sql.SQL("{}; SELECT set_config({}, {}, false)").format(
        set_role, sql.Literal(WORKSPACE_SETTING), sql.Literal(active.workspace_id)
    )


def _apply(wrapper: BaseDatabaseWrapper) -> None:
    # Through the driver's own connection, not Django's cursor: these statements are how
    # the connection is set up, not the work a view does, and query-count tests should
    # not see them.
    raw = wrapper.connection
    if raw is None:
        return
    status = raw.info.transaction_status
    from psycopg.pq import TransactionStatus

    if status == TransactionStatus.INERROR:
        # The transaction failed; its rollback undoes what it set, back to the scope
        # that was applied before it began, which is the one being restored.
        return
    raw.execute(_statement(current()))


def _apply_if_connected() -> None:
    if default_connection.vendor == "postgresql" and default_connection.connection is not None:
        _apply(default_connection)


def _on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if connection.vendor == "postgresql":
        _apply(connection)


connection_created.connect(_on_connection_created, dispatch_uid="sdr.rls")


def tenant_tables() -> list[str]:
    from sdr.tenancy import tenant_models

    return sorted({model._meta.db_table for model in tenant_models()})


def policies_install(wrapper: BaseDatabaseWrapper) -> None:
    """Enable row-level security on every tenant table, with its one policy, and grant the
    product's roles what they need. Idempotent; run after every `migrate`."""
    from psycopg import sql

    match = sql.SQL("workspace_id = NULLIF(current_setting({}, true), '')::uuid").format(
        sql.Literal(WORKSPACE_SETTING)
    )
    with wrapper.cursor() as cursor:
        # Only what is missing or stale: a migrate that changed nothing here (the demo's
        # seed runs one inside a transaction) must not alter tables.
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, p.policyname FROM pg_class c "
            "LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname LIKE %s "
            "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
            [POLICY_PREFIX + "%", tenant_tables()],
        )
        statements = []
        for table, enabled, policy in cursor.fetchall():
            name = sql.Identifier(table)
            if not enabled:
                statements.append(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
            if policy == POLICY_NAME:
                continue
            if policy is not None:  # an older version of the policy
                statements.append(
                    sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(policy), name)
                )
            statements.append(
                sql.SQL("CREATE POLICY {} ON {} USING ({}) WITH CHECK ({})").format(
                    sql.Identifier(POLICY_NAME), name, match, match
                )
            )
        if statements:
            statements += _grants()
        elif _grants_missing(cursor):
            statements = _grants()
        for statement in statements:
            cursor.execute(statement.as_string(wrapper.connection))


def _grants_missing(cursor: Any) -> bool:
    """Whether a table lacks a grant to a product role (a migration added one)."""
    roles = [r for r in (settings.DATABASE_ROLE, settings.DATABASE_CROSS_WORKSPACE_ROLE) if r]
    if not roles:
        return False
    cursor.execute(
        "SELECT count(*) FROM pg_tables t CROSS JOIN unnest(%s::text[]) AS r(name) "
        "WHERE t.schemaname = 'public' AND EXISTS (SELECT FROM pg_roles WHERE rolname = r.name) "
        "AND NOT has_table_privilege(r.name, quote_ident(t.tablename), 'SELECT')",
        [roles],
    )
    return bool(cursor.fetchone()[0])


def _grants() -> list[Any]:
    from psycopg import sql

    grants = []
    roles = [r for r in (settings.DATABASE_ROLE, settings.DATABASE_CROSS_WORKSPACE_ROLE) if r]
    for role in dict.fromkeys(roles):
        name = sql.Identifier(role)
        grants += [
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(name),
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(name),
        ]
    if settings.DATABASE_CROSS_WORKSPACE_ROLE:
        # Emptying tables is a cross-workspace act (TRUNCATE ignores row-level security):
        # only the cross-workspace role may, for the test runner's flush.
        grants.append(
            sql.SQL("GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {}").format(
                sql.Identifier(settings.DATABASE_CROSS_WORKSPACE_ROLE)
            )
        )
    return grants


def roles_statements(app_role: str, cross_role: str) -> list[str]:
    """SQL that creates the two roles (without login: give the app role one with
    `ALTER ROLE ... LOGIN PASSWORD`), for `manage.py db_roles`."""
    from psycopg import sql

    def create(role: str, attributes: str) -> sql.Composed:
        return sql.SQL(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN "
            "CREATE ROLE {} " + attributes + "; END IF; END $$"
        ).format(sql.Literal(role), sql.Identifier(role))

    statements = [
        create(app_role, "NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
        create(cross_role, "NOLOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE"),
        # The app role may become the cross-workspace role (SET ROLE), which is how the
        # few cross-workspace jobs say so; it inherits nothing from it (NOINHERIT is moot:
        # BYPASSRLS is an attribute, never inherited).
        sql.SQL("GRANT {} TO {}").format(sql.Identifier(cross_role), sql.Identifier(app_role)),
    ]
    return [statement.as_string() for statement in statements]


# Every task starts with no workspace, whatever the code that queued it was doing (an eager
# task runs inside its caller): a task says for whom it acts, from the ids it is handed.
_task_tokens: dict[str, contextvars.Token[Scope | None]] = {}


def _task_started(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id is not None:
        _task_tokens[task_id] = _scope.set(NO_WORKSPACE)
        _apply_or_drop()


def _task_ended(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        _scope.reset(token)
        _apply_or_drop()


def _apply_or_drop() -> None:
    """Apply the scope to a connection a worker kept from its last task, which may have died
    since (a database restart, an idle timeout): then it is closed, and the task's first
    query opens a new one, scoped as it connects."""
    import psycopg

    try:
        _apply_if_connected()
    except (psycopg.OperationalError, psycopg.InterfaceError):
        if default_connection.in_atomic_block:
            raise  # an eager task inside its caller's transaction: that transaction is lost
        default_connection.close()


def _connect_task_signals() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="sdr.rls.task_started")
    task_postrun.connect(_task_ended, weak=False, dispatch_uid="sdr.rls.task_ended")


_connect_task_signals()


def across_workspaces(handle: Callable[..., Any]) -> Callable[..., Any]:
    """For an operator's command that reads every workspace, as the admin does."""

    @functools.wraps(handle)
    def wrapper(*args: Any, **options: Any) -> Any:
        with cross_workspace():
            return handle(*args, **options)

    return wrapper


def in_named_workspace(handle: Callable[..., Any]) -> Callable[..., Any]:
    """For a command with `--workspace SLUG`: it acts for that workspace only (for none
    when there is no such workspace; the command says so in its own words)."""

    @functools.wraps(handle)
    def wrapper(*args: Any, **options: Any) -> Any:
        from sdr.models import Workspace

        workspace = Workspace.objects.filter(slug=str(options.get("workspace") or "")).first()
        with workspace_scope(workspace):
            return handle(*args, **options)

    return wrapper
