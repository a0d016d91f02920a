"""Tenant isolation, walked over every route the project serves.

For each URL pattern: a member of workspace A (signed in, and separately with A's API
key) asks for workspace B's rows. Routes with ids must answer 404 for every method; routes
without ids must not show any of B's ids. A new route with an id that this test cannot
map to a model fails the test until its view declares the model it resolves.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from sdr import services
from sdr.models import Workspace
from sdr.tenancy import tenant_models
from tests.factories import TENANT_FACTORIES, MembershipFactory, WorkspaceFactory

# Routes that serve no tenant data, with the reason.
PUBLIC_ROUTES = {
    "login": "sign-in form",
    "logout": "sign-out",
    "healthz": "service status, no tenant data",
    "api-schema": "the OpenAPI document",
    "api-docs": "the API docs page",
}


def walk(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or namespace
            yield from walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def routes():
    return [
        (route, pattern)
        for route, pattern, namespace in walk()
        if namespace != "admin" and pattern.name not in PUBLIC_ROUTES
    ]


def route_kwargs(pattern: URLPattern) -> set[str]:
    """The ids a route takes (DRF's format suffix is not one)."""
    return set(pattern.pattern.regex.groupindex) - {"format"}


def declared_tenant_kwargs(pattern: URLPattern) -> dict[str, type]:
    view = pattern.callback
    if hasattr(view, "cls") and hasattr(view.cls, "tenant_kwargs"):  # DRF viewset or view
        kwargs = view.cls.tenant_kwargs
        return kwargs() if callable(kwargs) else kwargs
    view_class = getattr(view, "view_class", None)
    if view_class is not None and hasattr(view_class, "tenant_kwargs"):
        return view_class.tenant_kwargs
    return getattr(view, "tenant_kwargs", {})


def url_for(route: str, pattern: URLPattern, values: dict[str, str]) -> str:
    from django.urls import reverse

    kwargs = {name: values[name] for name in pattern.pattern.regex.groupindex}
    name = pattern.name
    if name is None:
        pytest.fail(f"Route {route!r} has no name; name it so it can be walked.")
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        # DRF format-suffix patterns and similar share a name; fall back to the literal route.
        path = route
        for key, value in kwargs.items():
            path = path.replace(f"<{key}>", value)
            for conv in ("int", "str", "slug", "uuid", "path"):
                path = path.replace(f"<{conv}:{key}>", value)
        return "/" + path.lstrip("^").rstrip("$")


@pytest.fixture
def world(db):
    a = WorkspaceFactory(name="Alpha", slug="alpha")
    b = WorkspaceFactory(name="Bravo", slug="bravo")
    member_a = MembershipFactory(workspace=a).user
    MembershipFactory(workspace=b)
    b_rows = {model: factory(workspace=b) for model, factory in TENANT_FACTORIES.items()}
    for factory in TENANT_FACTORIES.values():
        factory(workspace=a)
    _, key_a = services.api_key_create(workspace=a, name="A's CRM")
    return {"a": a, "b": b, "member_a": member_a, "b_rows": b_rows, "key_a": key_a}


def clients(world, client):
    client.force_login(world["member_a"])
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {world['key_a']}")
    return {"session": client, "api key": keyed}


def test_every_tenant_model_has_a_factory():
    missing = [m.__name__ for m in tenant_models() if m not in TENANT_FACTORIES]
    assert not missing, f"Add factories to tests/factories.py TENANT_FACTORIES: {missing}"


def test_every_route_with_an_id_declares_the_model_it_resolves():
    unmapped = [
        route
        for route, pattern in routes()
        if not route_kwargs(pattern) <= set(declared_tenant_kwargs(pattern))
    ]
    assert not unmapped, (
        "These routes take ids but do not declare which workspace model they resolve "
        f"(member_required(pk=Model), or WorkspaceViewSet.model): {unmapped}"
    )


def b_value(world, model, kwarg: str) -> str:
    if model is Workspace:
        return world["b"].slug if kwarg == "slug" else str(world["b"].pk)
    row = world["b_rows"][model]
    return str(row.pk)


@pytest.mark.django_db
def test_routes_with_ids_answer_404_for_another_workspaces_rows(world, client):
    checked = 0
    for route, pattern in routes():
        tenant_kwargs = declared_tenant_kwargs(pattern)
        if not route_kwargs(pattern):
            continue
        values = {name: b_value(world, model, name) for name, model in tenant_kwargs.items()}
        values.setdefault("format", "json")
        url = url_for(route, pattern, values)
        for label, http in clients(world, client).items():
            for method in ("get", "post", "put", "patch", "delete"):
                response = getattr(http, method)(url)
                assert response.status_code in (404, 405, 401, 302), (
                    f"{label} {method.upper()} {url} answered {response.status_code}"
                )
                if response.status_code == 302:
                    assert "/login/" in response["Location"], f"{url} redirected elsewhere"
                checked += 1
    assert checked > 0


@pytest.mark.django_db
def test_routes_without_ids_never_show_another_workspaces_rows(world, client):
    b_ids = {str(row.pk) for row in world["b_rows"].values()} | {str(world["b"].pk)}
    b_ids |= {getattr(row, "prefix", "") for row in world["b_rows"].values()} - {""}
    for route, pattern in routes():
        if route_kwargs(pattern):
            continue
        url = url_for(route, pattern, {"format": "json"})
        for label, http in clients(world, client).items():
            response = http.get(url)
            body = response.content.decode(errors="replace")
            leaked = [i for i in b_ids if i in body]
            assert not leaked, f"{label} GET {url} shows workspace B's rows: {leaked}"


@pytest.mark.django_db
def test_malformed_ids_are_404_not_500(world, client):
    for route, pattern in routes():
        if not route_kwargs(pattern):
            continue
        values = {name: "not-a-" + uuid.uuid4().hex[:4] for name in route_kwargs(pattern)}
        values.setdefault("format", "json")
        url = url_for(route, pattern, values)
        response = clients(world, client)["session"].get(url)
        assert response.status_code in (404, 405), f"GET {url} answered {response.status_code}"


@pytest.mark.django_db
def test_admin_is_closed_to_members_who_are_not_staff(world, client):
    client.force_login(world["member_a"])
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
