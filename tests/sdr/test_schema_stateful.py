"""The schema's links are a contract too: following them, from a create or a list into the
row's own operations, one after another on the same row, never meets a 5xx, an
undocumented status or a body the schema does not describe.

`test_schema_conformance` calls each operation alone, with the id of a row that exists;
here schemathesis' state machine chains them through the declared `links` (created by
`sdr.schema.links_in_schema`), so a campaign it has just created is paused, resumed,
archived and enrolled into, in the orders Hypothesis picks. Same WSGI app, same real
PostgreSQL, same populated workspace and all-scopes key. Bounded and derandomized: well
under a minute, the same failure every time.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.stateful import run_state_machine_as_test
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from sdr.wsgi import application
from tests.sdr import test_schema_conformance as conformance

# The same populated workspace and all-scopes key as the conformance walk (fixtures).
keyed_workspace = conformance.keyed_workspace
_connection_kept_across_requests = conformance._connection_kept_across_requests

# The links followed are the ones the schema declares: schemathesis' own inference (which
# would add links it guesses, into this same schema object) is off. Valid data only: the
# conformance walk sends the invalid kind to every operation already, and here each 400 on
# a create is a chain that goes no deeper.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json",
    application,
    config=SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "positive"},
            "phases": {"stateful": {"inference": {"algorithms": []}}},
        }
    ),
)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# 15 to 30 seconds on two cores, as busy as they are.
STATEFUL = settings(
    max_examples=100,
    stateful_step_count=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _links() -> dict[tuple[str, str, str], dict[str, dict[str, Any]]]:
    """{(method, path, status): that response's links}, as published."""
    found = {}
    for path, item in schema.raw_schema["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if "links" in response:
                    found[(method.upper(), path, status)] = response["links"]
    return found


def _operation_ids() -> dict[str, str]:
    """{operationId: "METHOD path"}."""
    return {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def test_every_link_names_a_real_operation_and_its_id():
    operations = _operation_ids()
    links = _links()
    assert sum(len(named) for named in links.values()) > 60
    for (method, path, status), named in links.items():
        assert status.startswith("2"), (method, path, status)
        for name, link in named.items():
            assert link["operationId"] in operations, (method, path, name)
            assert "/{id}/" in operations[link["operationId"]], (method, path, name)
            assert link["parameters"]["id"] in {
                "$response.body#/id",
                "$response.body#/results/0/id",
            }


def test_a_created_row_links_to_every_operation_on_it():
    links = _links()
    assert set(links[("POST", "/api/v1/companies/", "201")]) == {
        "companies_retrieve",
        "companies_partial_update",
        "companies_enrich_create",
    }
    assert set(links[("POST", "/api/v1/campaigns/", "201")]) == {
        "campaigns_retrieve",
        "campaigns_partial_update",
        "campaigns_enroll_create",
        "campaigns_pause_create",
        "campaigns_resume_create",
        "campaigns_unenroll_create",
        "campaigns_archive_create",
        "campaigns_variants_retrieve",
    }
    assert set(links[("POST", "/api/v1/leads/", "201")]) == {
        "leads_retrieve",
        "leads_partial_update",
        "leads_destroy",
        "leads_tags_create",
    }
    for created in ("201", "200"):  # a new suppression or outcome, or the one already there
        assert "suppressions_destroy" in links[("POST", "/api/v1/suppressions/", created)]
        assert "outcomes_dispute_create" in links[("POST", "/api/v1/outcomes/", created)]
    assert "mailboxes_test_create" in links[("POST", "/api/v1/mailboxes/", "201")]
    assert "webhooks_rotate_secret_create" in links[("POST", "/api/v1/webhooks/", "201")]
    link = links[("POST", "/api/v1/companies/", "201")]["companies_enrich_create"]
    assert link["parameters"] == {"id": "$response.body#/id"}


def test_a_list_links_its_first_row():
    links = _links()
    first = links[("GET", "/api/v1/messages/", "200")]["messages_approve_create"]
    assert first["parameters"] == {"id": "$response.body#/results/0/id"}
    assert "billing_events_dispute_create" in links[("GET", "/api/v1/billing/events/", "200")]
    # A row's own operations link nowhere: they would start scenarios with random ids.
    assert not any("{id}" in path for _, path, _ in links)


def test_following_the_links_keeps_to_the_schema(keyed_workspace):
    headers = keyed_workspace["headers"]
    succeeded = set()  # row operations ("POST /api/v1/campaigns/{id}/pause/") that said 2xx

    class Workflow(schema.as_state_machine()):
        def setup(self) -> None:
            # Each scenario starts from the populated workspace: what one created, archived
            # or deleted is rolled back before the next, so a failure replays (and shrinks)
            # the same way.
            self.savepoint = transaction.savepoint()

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)
            super().teardown()

        def after_call(self, response, case):
            super().after_call(response, case)
            if "{id}" in case.operation.path and response.status_code < 300:
                succeeded.add(case.operation.label)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    run_state_machine_as_test(Workflow, settings=STATEFUL)

    # The walk went past the lists and creates: links carried real ids into row operations
    # (a broken link would send random ids, every one a 404, and the checks above would
    # still pass).
    assert len(succeeded) >= 15, sorted(succeeded)
    # Which campaign act is reached depends on the data drawn (the run on a fresh CI machine
    # reached other ones than on a warm one); that one is reached at all is the point.
    campaign_acts = {op for op in succeeded if op.startswith("POST /api/v1/campaigns/{id}/")}
    assert campaign_acts, sorted(succeeded)
