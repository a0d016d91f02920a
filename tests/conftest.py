"""Shared fixtures: two workspaces with a member each, clients signed in or keyed for them.

The suite runs against PostgreSQL (DATABASE_URL); the README's test command sets it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from sdr import services
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.httpserver import http_server  # noqa: F401  (a fixture)
from tests.openai_server import openai_server  # noqa: F401  (a fixture)


@pytest.fixture(autouse=True, scope="session")
def _require_postgresql(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                "The tests run against PostgreSQL: set DATABASE_URL "
                "(the README's test command does), e.g. postgres://postgres@127.0.0.1:5432/sdr",
                returncode=2,
            )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def workspace(db):
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
    _, key = services.api_key_create(workspace=workspace, name="CRM")
    return key


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def user_factory(db):
    return UserFactory
