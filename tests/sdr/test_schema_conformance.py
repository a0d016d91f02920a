"""The published OpenAPI schema is a contract: an outside client checks every response
against it (schemathesis, through the app's WSGI entry point, on real PostgreSQL).

For every operation the schema lists: no 5xx, every status code documented, every body
valid against its documented schema (formats included: `""` is not an email), and the
documented content type. Path ids are those of a workspace full of data, so retrieves,
edits and actions meet real rows rather than 404 only. Hypothesis is bounded and
derandomized so the file runs in well under a minute and fails the same way every time.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from billing.models import BillableEvent
from leads.models import Company, Fact, ImportJob, Lead, Signal, Suppression
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome, Reply
from sdr import services
from sdr.models import WebhookEndpoint, WorkspaceAPIKey
from sdr.wsgi import application
from tests.factories import workspace_populate

# Loaded once at collection: the schema view needs no database and no credentials.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
RESOURCES = {
    "companies": Company,
    "leads": Lead,
    "facts": Fact,
    "signals": Signal,
    "imports": ImportJob,
    "suppressions": Suppression,
    "campaigns": Campaign,
    "enrollments": Enrollment,
    "messages": Message,
    "outcomes": Outcome,
    "mailboxes": Mailbox,
    "billing": BillableEvent,  # /api/v1/billing/events/{id}/
    "replies": Reply,
    "webhooks": WebhookEndpoint,
}


@pytest.fixture
def _connection_kept_across_requests():
    """Django closes the database connection at each request's start and end; inside the
    test's transaction that would close it mid-test. Its own test client unhooks the same
    handler for the same reason (django.test.client.ClientHandler)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def keyed_workspace(workspace, _connection_kept_across_requests):
    """The workspace the key acts for, full of related rows; {resource: id} and headers."""
    rows = workspace_populate(workspace, tag="acme")
    _, key = services.api_key_create(
        workspace=workspace, name="schemathesis", scopes=WorkspaceAPIKey.Scope.values
    )
    ids = {name: str(rows[model].pk) for name, model in RESOURCES.items() if model in rows}
    return {"ids": ids, "headers": {"Authorization": f"Api-Key {key}"}}


def test_every_operation_is_walked():
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert "DELETE /api/v1/leads/{id}/" in operations
    assert "POST /api/v1/campaigns/{id}/archive/" in operations
    assert "DELETE /api/v1/campaigns/{id}/" not in operations
    assert len(operations) > 30


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_responses_conform_to_the_published_schema(case, keyed_workspace):
    resource = case.path.split("/")[3]
    if "id" in (case.path_parameters or {}) and _is_uuid(case.path_parameters["id"]):
        # A well-formed id becomes a real one; a malformed one stays, to be a 404.
        case.path_parameters["id"] = keyed_workspace["ids"][resource]
    case.call_and_validate(headers=keyed_workspace["headers"], checks=CHECKS)


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
