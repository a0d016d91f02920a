"""Shared fixtures: two workspaces with a member each, clients signed in or keyed for them.

Isolation is checked in every test, not only in the isolation test:
- every test with the database (so every test of `workspace`) has a neighbour: another
  workspace full of rows like the ones tests make (`tests.factories.workspace_populate`),
  so a query that forgets to scope sees them;
- after every test that used the database, no row may point at another workspace's row
  (`tests.sdr.isolation_check`); the test fails with the relation and the ids.

The neighbour is written once, committed, when the test database is made, rather than
for each test: about 25 inserts, hundreds of times, would add seconds to every run. Each
test's own transaction is rolled back over it; a `transaction=True` test empties every
table when it ends, so the next test writes the neighbour again before it starts.

The suite runs against PostgreSQL (DATABASE_URL); the README's test command sets it.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from sdr import rls, services
from sdr.models import Workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory, workspace_populate
from tests.httpserver import http_server  # noqa: F401  (a fixture)
from tests.loopback import LOOPBACK_NETWORKS, NETWORK_SETTINGS
from tests.openai_server import openai_server  # noqa: F401  (a fixture)
from tests.sdr.isolation_check import check_after_test, uses_database
from tests.smtp_server import smtp_server  # noqa: F401  (a fixture)

NEIGHBOUR_SLUG = "zebulon"
# The committed neighbour: its workspace id, {key: (model, id)} of its rows, and the blocker
# that lets the teardown hook write it again.
_neighbour_state: dict[str, Any] = {}


# Row-level security is on for the whole suite (sdr/rls.py): connected as postgres, the
# product acts as the app role, which owns nothing and does not bypass the policies.
settings.DATABASE_ROLE = os.environ.get("DATABASE_ROLE") or "sdr_app"
settings.DATABASE_CROSS_WORKSPACE_ROLE = (
    os.environ.get("DATABASE_CROSS_WORKSPACE_ROLE") or "sdr_ops"
)
# Creating the test database and migrating it is the owner's work.
rls.default_set(rls.OWNER)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """The roles exist in the cluster before the test database is migrated (its grants
    name them); made here, as the suite's login user, once per cluster."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        with psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as raw:
            # Test processes run side by side (xdist): one makes the roles at a time.
            raw.execute("SELECT pg_advisory_lock(hashtext('sdr.rls.roles'))")
            for statement in rls.roles_statements(
                settings.DATABASE_ROLE, settings.DATABASE_CROSS_WORKSPACE_ROLE
            ):
                raw.execute(statement)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Test bodies set up their rows across workspaces, as the admin would; every request,
    # task and command they run sets its own scope, as in production.
    with django_db_blocker.unblock():
        rls.default_set(rls.CROSS)
    yield
    with django_db_blocker.unblock():
        rls.default_set(rls.OWNER)  # dropping the test database is the owner's work too


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql(request, django_db_setup, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.exit(
            "The tests run against PostgreSQL: set DATABASE_URL "
            "(the README's test command does), e.g. postgres://postgres@127.0.0.1:5432/sdr",
            returncode=2,
        )
    # pytest-django creates the test database only when a collected test uses it; without
    # one, the connection would point at the real database named in DATABASE_URL.
    if not any(uses_database(item) for item in request.session.items):
        return
    with django_db_blocker.unblock():
        _neighbour_state["blocker"] = django_db_blocker
        _neighbour_ensure()


def _neighbour_ensure() -> None:
    """Write the neighbour (committed) unless it is there."""
    existing = Workspace.objects.filter(slug=NEIGHBOUR_SLUG)
    if "rows" in _neighbour_state and existing.exists():
        return
    existing.delete()  # one left by an earlier run (--reuse-db): its ids are not known
    workspace = WorkspaceFactory(name="Zebulon", slug=NEIGHBOUR_SLUG)
    # No API key: several tests read "the" key with an unscoped WorkspaceAPIKey.objects.get().
    rows = workspace_populate(workspace, tag=NEIGHBOUR_SLUG, api_key=False)
    _neighbour_state["workspace"] = workspace.pk
    _neighbour_state["rows"] = {key: (type(row), row.pk) for key, row in rows.items()}


class Neighbour:
    """The neighbour of a test: its workspace, and one row of each model it holds
    (`rows[Company]`, `rows["eligible_lead"]`), read when first asked for."""

    @functools.cached_property
    def workspace(self) -> Workspace:
        return Workspace.objects.get(pk=_neighbour_state["workspace"])

    @functools.cached_property
    def rows(self) -> dict[Any, Any]:
        return {
            key: model._base_manager.get(pk=pk)
            for key, (model, pk) in _neighbour_state["rows"].items()
        }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    """The tests' servers are on loopback, which a plain process refuses (the settings
    default to no non-public network); tests of the refusal set these back to []."""
    for name in NETWORK_SETTINGS:
        setattr(settings, name, list(LOOPBACK_NETWORKS))


@pytest.fixture(autouse=True)
def _api_rate_out_of_the_way(settings):
    """One key makes hundreds of requests in a test (the isolation walk, schemathesis);
    the rate limit has tests of its own (tests/sdr/test_rate_limits.py), which lower it."""
    settings.API_RATE_PER_MINUTE = 1_000_000
    settings.API_RATE_BURST = 1_000_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # After the test body, before its fixtures are torn down: the test's rows are still
    # there (inside its transaction, or committed for transaction=True tests).
    result = yield
    problem = check_after_test(item)
    if problem:
        pytest.fail(problem, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    # Before the test's own transaction starts: a transaction=True test before this one
    # emptied every table, the neighbour with them.
    if uses_database(item) and "blocker" in _neighbour_state:
        with _neighbour_state["blocker"].unblock():
            _neighbour_ensure()
    return (yield)


@pytest.fixture
def neighbour(db):
    """Another customer, with one row of every tenant model and the usual related rows."""
    return Neighbour()


@pytest.fixture
def workspace(db, neighbour):
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def member(workspace):
    return MembershipFactory(workspace=workspace).user


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Beta", slug="beta")


@pytest.fixture
def web(client, member):
    client.force_login(member)
    return client


@pytest.fixture
def api_key(workspace):
    # Every scope: the integration the tests drive may do anything a key may do; scopes
    # have tests of their own (tests/sdr/test_api_key_scopes.py).
    _, key = services.api_key_create(
        workspace=workspace, name="CRM", scopes=["read", "write", "send", "admin"]
    )
    return key


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def user_factory(db):
    return UserFactory
