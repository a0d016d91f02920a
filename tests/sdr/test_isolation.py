"""Tenant isolation, walked over every route the project serves (tests/sdr/isolation_walk.py).

Workspace A and workspace B each hold one coherent set of rows (`workspace_populate`). A
member of A, signed in and separately with A's API key:
- asks for B's rows by id, with every method: 404 (or 405), and B is left as it was;
- asks for A's own rows the same way: answered (the positive control: with authentication
  broken, every request would be a 401 and the 404 walk above would prove nothing);
- reads every page without ids, also with B's ids in the query string: none of B shows;
- writes through every route and every form with B's ids and natural keys in the body:
  B's rows are unchanged and no row of A points at a row of B;
- reads every page before and after B grows: byte for byte the same.
"""

from __future__ import annotations

import difflib
import functools
import re
import uuid
from urllib.parse import urlencode

import pytest
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, get_authorization_header

from leads.models import Company, Lead
from outreach.models import Message
from sdr.auth import WorkspaceAPIKeyAuthentication
from sdr.models import Membership, Workspace
from sdr.tenancy import tenant_models
from tests.factories import (
    TENANT_FACTORIES,
    CompanyFactory,
    LeadFactory,
    SignalFactory,
    workspace_populate,
)
from tests.sdr import isolation_check
from tests.sdr.isolation_walk import (
    EVERY_METHOD,
    MUTATING,
    api_body,
    form_body,
    forms_on,
    is_public,
    openapi,
    path_regex,
    probe,
    response_text,
    routes,
    send_api,
    snapshot_changes,
    universal_body,
    workspace_snapshot,
    world_build,
)


@pytest.fixture
def world(db):
    return world_build()


# -- the walk covers everything ---------------------------------------------------------------


def test_every_tenant_model_has_a_factory():
    missing = [m.__name__ for m in tenant_models() if m not in TENANT_FACTORIES]
    assert not missing, f"Add factories to tests/factories.py TENANT_FACTORIES: {missing}"


def test_every_route_with_an_id_declares_the_model_it_resolves():
    unmapped = [r.route for r in routes() if not r.kwargs <= set(r.tenant_kwargs())]
    assert not unmapped, (
        "These routes take ids but do not declare which workspace model they resolve "
        f"(member_required(pk=Model), or WorkspaceScoped.model): {unmapped}"
    )


def test_every_database_test_has_a_neighbour_with_a_row_of_every_tenant_model(workspace, neighbour):
    for model in tenant_models():
        theirs = model.objects.for_workspace(neighbour.workspace)
        assert theirs.exists(), f"The neighbour has no {model.__name__}"
        assert not model.objects.for_workspace(workspace).exists()
    assert neighbour.rows["eligible_lead"].email


# -- ids of B in URLs -------------------------------------------------------------------------


def test_routes_with_ids_answer_404_for_another_workspaces_rows(world):
    b_before = workspace_snapshot(world.b)
    wrong = []
    checked = 0
    for route in routes():
        if not route.kwargs:
            continue
        url = world.url(route, "b")
        for label, http in world.clients(route).items():
            for method in EVERY_METHOD:
                response = getattr(http, method)(url)
                checked += 1
                # With valid credentials nothing else is right: a 401, 403 or a redirect
                # to the sign-in page means the request never reached the scoping.
                if response.status_code not in (404, 405):
                    wrong.append(f"{label} {method.upper()} {url}: {response.status_code}")
    assert not wrong, "Another workspace's rows must be 404:\n" + "\n".join(wrong)
    assert checked > 0
    assert not snapshot_changes(b_before, workspace_snapshot(world.b))


# -- the positive control ---------------------------------------------------------------------


def own_workspace_failures(world, *, limit: int | None = None) -> list[str]:
    """The same requests as the 404 walk, for A's own rows, and every page without ids:
    each must reach the view. Writes are rolled back after each request."""
    failures: list[str] = []
    for route in routes():
        url = world.url(route, "a")
        for label, http in world.clients(route).items():
            for method in route.methods(EVERY_METHOD if route.kwargs else ("get",)):
                send = functools.partial(getattr(http, method), url)
                result = probe(f"{label} {method.upper()} {url}", send)
                status = result.status
                if result.error:
                    failures.append(f"{result.label}: raised {result.error}")
                elif status in (401, 403, 404) or "/login/" in result.location:
                    failures.append(f"{result.label}: {status} {result.location}".rstrip())
                elif method == "get" and not (200 <= status < 400 or status == 405):
                    failures.append(f"{result.label}: {status}")
                if limit is not None and len(failures) >= limit:
                    return failures
    return failures


def test_own_rows_are_answered_so_the_404s_are_not_an_authentication_failure(world):
    failures = own_workspace_failures(world)
    assert not failures, "Requests for the workspace's own rows failed:\n" + "\n".join(failures)


def _reject_every_key(self, request):
    if get_authorization_header(request):
        raise exceptions.AuthenticationFailed("broken on purpose")


BREAKAGES = {
    "API keys rejected": (WorkspaceAPIKeyAuthentication, "authenticate", _reject_every_key),
    "API ignores the session": (SessionAuthentication, "authenticate", lambda self, r: None),
    "web sign-in lost": (auth_middleware, "get_user", lambda request: AnonymousUser()),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_positive_control_fails_when_authentication_is_broken(world, monkeypatch, breakage):
    """The defect this control exists for: with every API-key request answered 401, the
    404 walk alone passed. Here the own-rows check reports it at the first route."""
    target, name, replacement = BREAKAGES[breakage]
    monkeypatch.setattr(target, name, replacement)
    failures = own_workspace_failures(world, limit=1)
    client, answer = {
        "API keys rejected": ("api key GET /api/", ": 401"),
        "API ignores the session": ("session GET /api/", ": 401"),
        "web sign-in lost": ("session GET /", ": 302 /login/"),
    }[breakage]
    assert failures, "the own-rows check passed with authentication broken"
    assert failures[0].startswith(client) and answer in failures[0], failures


# -- pages without ids, also with B's ids in the query string -------------------------------


def test_routes_without_ids_never_show_another_workspaces_rows(world):
    flat = {k: v[0] if isinstance(v, list) else v for k, v in universal_body(world).items()}
    query = urlencode(flat)
    leaked = []
    for route in routes():
        if route.kwargs:
            continue
        url = world.url(route, "a")
        for label, http in world.clients(route).items():
            for sent, full in (("", url), (query, f"{url}?{query}")):
                response = http.get(full)
                found = world.leaks(response_text(response), sent=sent)
                if found:
                    leaked.append(f"{label} GET {full[:80]}: {found}")
    assert not leaked, "Pages show workspace B's rows:\n" + "\n".join(leaked)


def test_malformed_ids_are_404_not_500(world):
    for route in routes():
        if not route.kwargs:
            continue
        values = {name: "not-a-" + uuid.uuid4().hex[:4] for name in route.kwargs}
        values["format"] = "json"
        url = route.url(values)
        response = world.session.get(url)
        assert response.status_code in (404, 405), f"GET {url} answered {response.status_code}"


def test_admin_is_closed_to_members_who_are_not_staff(world):
    response = world.session.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# -- writes carrying B's ids ------------------------------------------------------------------


def write_probes(world):
    """Every write of A's (each route and method, each form on each page), with B's ids and
    natural keys in the body. Yields (what was sent, Probe)."""
    b_before = workspace_snapshot(world.b)
    for route in routes():
        if route.has_format_suffix:  # the same view as the plain route
            continue
        url = world.url(route, "a")
        for label, http in world.clients(route).items():
            for method in route.methods(MUTATING):
                if route.is_api:
                    body, fmt = api_body(world, url, method)
                else:
                    body, fmt = universal_body(world), "form"

                def send(http=http, method=method, url=url, body=body, fmt=fmt):
                    if fmt == "form":
                        return getattr(http, method)(url, body)
                    return send_api(http, method, url, body, fmt)

                yield (
                    str(body),
                    probe(f"{label} {method.upper()} {url}", send, b_before=b_before, world=world),
                )
    # The forms the pages render, filled in as a browser would, with B's ids swapped in.
    seen = set()
    for route in routes():
        if route.is_api:
            continue
        page = world.url(route, "a")
        response = world.session.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in forms_on(page, response.content.decode()):
            key = (form.action, form.names)
            if key in seen or is_public(form.action):
                continue
            seen.add(key)
            body = form_body(world, form)

            def send(action=form.action, body=body):
                return world.session.post(action, body)

            fields = ", ".join(form.names)
            yield (
                str(body),
                probe(
                    f"form on {page} -> POST {form.action} ({fields})",
                    send,
                    b_before=b_before,
                    world=world,
                ),
            )


def test_writes_with_another_workspaces_ids_leave_it_alone(world):
    """E.g. enrolling B's leads into A's campaign, an outcome for B's lead, a lead of A
    moved to B's company, a bulk upsert that names B's leads by email or external id."""
    problems = []
    walked = set()
    for sent, result in write_probes(world):
        walked.add(result.label)
        if result.error:
            problems.append(f"{result.label}: raised {result.error}")
        if result.changes_to_b:
            problems.append(f"{result.label} changed workspace B: {result.changes_to_b}")
        if result.cross_references:
            problems.append(f"{result.label} made rows point across: {result.cross_references}")
        leaks = world.leaks(result.body, sent=sent)
        if leaks:
            problems.append(f"{result.label} answered with workspace B's data: {leaks}")
    assert not problems, "Writes with another workspace's ids:\n" + "\n".join(problems)

    # Every write the API documents was walked, with a body its schema describes.
    documented = {
        (method.upper(), path)
        for path, operations in openapi()["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    }
    not_walked = {
        (method, path)
        for method, path in documented
        if not any(
            label.startswith(f"api key {method} ")
            and re.match(path_regex(path), label.split(" ", 3)[3])
            for label in walked
        )
    }
    assert not not_walked, f"Writes the schema documents that were not walked: {not_walked}"
    # And the forms of the web pages were found and sent.
    assert any(label.startswith("form on ") for label in walked)


# -- counts: A's pages do not move when B grows ----------------------------------------------


def normalized(body: str) -> str:
    """A page as far as it depends on data: CSRF tokens are new on every render."""
    body = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1-", body)
    return re.sub(r'("X-CSRFToken": ")[^"]+', r"\1-", body)


def get_pages(world) -> dict[str, str]:
    pages = {}
    for route in routes():
        if route.has_format_suffix:
            continue
        url = world.url(route, "a")
        for label, http in world.clients(route).items():
            response = http.get(url)
            pages[f"{label} GET {url}"] = f"{response.status_code}\n" + normalized(
                response_text(response)
            )
    return pages


def neighbour_grow(world) -> None:
    """More of everything in B: another researched company with signals, leads that could
    be enrolled, drafts in every review state, outcomes, suppressions, imports."""
    rows = workspace_populate(world.b, tag="bravo2", member=False, api_key=False)
    company = rows[Company]
    for n in range(3):
        SignalFactory(workspace=world.b, company=company, title=f"Bravo2 news {n}")
        LeadFactory(workspace=world.b, company=CompanyFactory(workspace=world.b))
    Message.unscoped_objects.filter(pk=rows[Message].pk).update(status=Message.Status.HELD)


def test_pages_and_counts_do_not_change_when_the_neighbour_grows(world):
    # The first use of a key records it (once a minute): make that happen before round one.
    world.keyed.get("/api/v1/workspace/")
    before = get_pages(world)
    neighbour_grow(world)
    after = get_pages(world)
    changed = []
    for request, page in before.items():
        if after[request] != page:
            diff = difflib.unified_diff(
                page.splitlines(), after[request].splitlines(), lineterm="", n=0
            )
            changed.append(f"{request}:\n" + "\n".join(list(diff)[2:12]))
    assert not changed, "Pages of A changed when B grew:\n" + "\n\n".join(changed)
    assert len(before) > 20


# -- the after-test check ---------------------------------------------------------------------


def test_the_check_covers_every_relation_between_workspace_rows():
    labels = {label for label, _ in isolation_check.relations()}
    assert {
        "leads.Lead.company",
        "leads.Fact.lead",
        "outreach.Enrollment.lead",
        "outreach.Enrollment.campaign",
        "outreach.Message.step",
        "outreach.Message.cited_facts",
        "outreach.Outcome.lead",
    } <= labels
    assert not any(label.endswith(".workspace") for label in labels)


def test_the_check_reports_a_lead_whose_company_is_another_workspaces(workspace, neighbour):
    theirs = neighbour.rows[Company]
    with transaction.atomic():
        lead = Lead.unscoped_objects.create(workspace=workspace, company=theirs, email="x@y.z")
        found = isolation_check.cross_workspace_references()
        transaction.set_rollback(True)
    assert [(r.relation, r.row_id, r.target_id) for r in found] == [
        ("leads.Lead.company", str(lead.pk), str(theirs.pk))
    ]
    assert found[0].row_workspace == str(workspace.pk)
    assert found[0].target_workspace == str(neighbour.workspace.pk)
    assert "leads.Lead.company" in isolation_check.cross_workspace_report(found)


def test_the_check_reports_a_citation_of_another_workspaces_fact(workspace, neighbour):
    mine = TENANT_FACTORIES[Message](workspace=workspace)
    theirs = neighbour.rows[Message].cited_facts.get()
    with transaction.atomic():
        mine.cited_facts.add(theirs)
        found = isolation_check.cross_workspace_references()
        transaction.set_rollback(True)
    assert [(r.relation, r.row_id, r.target_id) for r in found] == [
        ("outreach.Message.cited_facts", str(mine.pk), str(theirs.pk))
    ]


@pytest.mark.django_db(transaction=True)
def test_the_check_runs_after_transactional_tests_too(request, workspace, neighbour):
    """Committed rows are what a transaction=True test leaves; the check sees them."""
    lead = LeadFactory(workspace=workspace, company=neighbour.rows[Company])
    problem = isolation_check.check_after_test(request.node)
    Lead.unscoped_objects.filter(pk=lead.pk).delete()  # or this test would fail after it
    assert problem is not None and str(lead.pk) in problem
    assert isolation_check.check_after_test(request.node) is None


def test_the_check_skips_tests_without_the_database(request):
    assert not isolation_check.uses_database(request.node)


def test_members_of_the_neighbour_do_not_see_the_workspace(workspace, neighbour, client):
    client.force_login(neighbour.rows[Membership].user)
    response = client.get("/")
    assert response.status_code == 200
    assert "Acme" not in response.content.decode()
    assert Workspace.objects.filter(slug="acme").exists()
