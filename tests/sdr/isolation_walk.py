"""The isolation walker: every route the project serves, asked for by a member of workspace
A while workspace B, full of data, sits next door. Used by tests/sdr/test_isolation.py.

Nothing here names a route: routes come from the URL resolver, the models a route's ids
resolve come from the view (`member_required(pk=Model)`, `WorkspaceScoped.model`), request
bodies come from the published OpenAPI schema and from the forms the web pages render,
and which fields carry ids comes from their names (`lead`, `lead_id`, `lead_ids`, ...,
one name per workspace model). A new route, form or field is walked without an edit here.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.db import connection, models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone
from rest_framework.test import APIClient

from leads.models import Company, Lead, Suppression
from sdr import services
from sdr.models import Membership, Workspace, WorkspaceAPIKey
from tests.factories import WorkspaceFactory, workspace_populate
from tests.sdr.isolation_check import cross_workspace_references, owned_models

# Routes that serve no tenant data, with the reason.
PUBLIC_ROUTES = {
    "login": "sign-in form",
    "logout": "sign-out",
    "healthz": "service status, no tenant data",
    "api-schema": "the OpenAPI document",
    "api-docs": "the API docs page",
    "unsubscribe": "a recipient's unsubscribe link: a signed token, no session, no tenant",
    "stripe-webhook": "Stripe's calls: the signature is the authentication, no session",
    "password-set": (
        "an invitee's one-time link to set a password: the signed token is the credential, "
        "and it names no workspace"
    ),
    "inbound-email-webhook": (
        "raw email posted by a mail provider: the workspace's HMAC signature over the body "
        "is the only credential, no session; unsigned requests get 400/401/404"
    ),
}
MUTATING = ("post", "put", "patch")
EVERY_METHOD = ("get", "post", "put", "patch", "delete")


# -- routes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # "api/v1/campaigns/<pk>/enroll/" (regex routes keep their regex)
    pattern: URLPattern

    @property
    def name(self) -> str | None:
        return self.pattern.name

    @property
    def kwargs(self) -> set[str]:
        """The ids a route takes (DRF's format suffix is not one)."""
        return set(self.pattern.pattern.regex.groupindex) - {"format"}

    @property
    def is_api(self) -> bool:
        return self.route.lstrip("^").startswith("api/")

    @property
    def has_format_suffix(self) -> bool:
        return "format" in self.pattern.pattern.regex.groupindex

    def methods(self, candidates: tuple[str, ...]) -> tuple[str, ...]:
        """The candidates the view may serve: DRF and class-based views say which they
        have; a function view is asked them all."""
        view = self.pattern.callback
        actions = getattr(view, "actions", None)  # a viewset route: {"get": "list", ...}
        if actions is not None:
            return tuple(m for m in candidates if m in actions)
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        if view_class is not None:
            return tuple(m for m in candidates if hasattr(view_class, m))
        return candidates

    def tenant_kwargs(self) -> dict[str, type]:
        view = self.pattern.callback
        if hasattr(view, "cls") and hasattr(view.cls, "tenant_kwargs"):  # DRF view or viewset
            kwargs = view.cls.tenant_kwargs
            return kwargs() if callable(kwargs) else kwargs
        view_class = getattr(view, "view_class", None)
        if view_class is not None and hasattr(view_class, "tenant_kwargs"):
            return view_class.tenant_kwargs
        return getattr(view, "tenant_kwargs", {})

    def url(self, values: dict[str, str]) -> str:
        kwargs = {name: values[name] for name in self.pattern.pattern.regex.groupindex}
        if self.name is None:
            pytest.fail(f"Route {self.route!r} has no name; name it so it can be walked.")
        try:
            return reverse(self.name, kwargs=kwargs)
        except Exception:
            # DRF format-suffix patterns share a name with the plain one: fill in the route.
            path = self.route
            for key, value in kwargs.items():
                path = re.sub(rf"\(\?P<{key}>[^)]*\)", value, path)
                path = path.replace(f"<{key}>", value)
                for conv in ("int", "str", "slug", "uuid", "path"):
                    path = path.replace(f"<{conv}:{key}>", value)
            return "/" + path.lstrip("^").rstrip("$").replace("\\.", ".").replace("/?", "/")


def _walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[tuple[str, Any, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern), pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern, namespace


def routes() -> list[Route]:
    return [
        Route(route, pattern)
        for route, pattern, namespace in _walk(get_resolver(), "", "")
        if namespace != "admin" and pattern.name not in PUBLIC_ROUTES
    ]


# -- the two workspaces --------------------------------------------------------------------


@dataclass
class World:
    a: Workspace
    b: Workspace
    a_rows: dict[Any, Any]
    b_rows: dict[Any, Any]
    member_a: Any
    key_a: str
    session: Client = field(default_factory=Client)
    keyed: APIClient = field(default_factory=APIClient)

    def __post_init__(self) -> None:
        self.session.force_login(self.member_a)
        self.keyed.credentials(HTTP_AUTHORIZATION=f"Api-Key {self.key_a}")

    def clients(self, route: Route) -> dict[str, Client]:
        """The clients a route serves: the API both, the web pages a signed-in member."""
        if route.is_api:
            return {"session": self.session, "api key": self.keyed}
        return {"session": self.session}

    def values(self, route: Route, side: str) -> dict[str, str]:
        workspace, rows = (self.a, self.a_rows) if side == "a" else (self.b, self.b_rows)
        values = {"format": "json"}
        for name, model in route.tenant_kwargs().items():
            if model is Workspace:
                values[name] = workspace.slug if name == "slug" else str(workspace.pk)
            else:
                values[name] = str(getattr(rows[model], getattr(model, "url_lookup", "pk")))
        return values

    def url(self, route: Route, side: str) -> str:
        return route.url(self.values(route, side))

    # What of B must never show on A's pages.
    @functools.cached_property
    def b_ids(self) -> set[str]:
        """B's ids that cannot occur by chance: UUIDs and API key prefixes. (Integer ids,
        like an activity's, would match any number; B's activity is found by its tag.)"""
        ids = {str(self.b.pk)}
        for row in self.b_rows.values():
            for value in (row.pk, getattr(row, "prefix", None)):
                if value is not None and len(str(value)) >= 8:
                    ids.add(str(value))
        return ids

    def leaks(self, body: str, *, sent: str = "") -> list[str]:
        """B's ids and names in a response body, except those the request itself sent.

        B's rows carry the tag "bravo": its names say "Bravo", its emails and domains
        "bravo". A request may send B's emails and domains (to see that they are not
        matched against B's rows), so only the capitalised name counts when it did."""
        found = [i for i in self.b_ids if i in body and i not in sent]
        names = re.findall(r"\bBravo\b" if "bravo" in sent else r"(?i)\bbravo\b", body)
        return found + names[:1]


def world_build() -> World:
    a = WorkspaceFactory(name="Alpha", slug="alpha")
    b = WorkspaceFactory(name="Bravo", slug="bravo")
    a_rows = workspace_populate(a, tag="alpha")
    b_rows = workspace_populate(b, tag="bravo")
    _, key_a = services.api_key_create(
        workspace=a, name="A's CRM", scopes=WorkspaceAPIKey.Scope.values
    )
    world = World(
        a=a, b=b, a_rows=a_rows, b_rows=b_rows, member_a=a_rows[Membership].user, key_a=key_a
    )
    # Reading the feed numbers every unpublished activity, B's too: number them now, so a
    # request of A that reads the feed does not look like a change to B's rows.
    from sdr.activity import activities_publish

    activities_publish()
    return world


# -- what a request may send: ids and natural keys of B -------------------------------------


@functools.cache
def _model_names() -> dict[str, type[models.Model]]:
    """Field names that mean "a row of this model": its model name, its verbose name with
    underscores, and its last word when no other model ends with it ("step")."""
    owned = owned_models()
    last_words: dict[str, list[type[models.Model]]] = {}
    for model in owned:
        last_words.setdefault(str(model._meta.verbose_name).split()[-1], []).append(model)
    names: dict[str, type[models.Model]] = {"workspace": Workspace}
    for model in owned:
        names[model._meta.model_name] = model
        names[str(model._meta.verbose_name).replace(" ", "_")] = model
    for word, models_ in last_words.items():
        if len(models_) == 1:
            names.setdefault(word, models_[0])
    return names


def fk_target(name: str) -> tuple[type[models.Model], bool] | None:
    """(model, many) when a field named `name` carries ids of a workspace's rows."""
    for suffix, many in (("_ids", True), ("_id", False), ("", False)):
        if name.endswith(suffix):
            model = _model_names().get(name[: len(name) - len(suffix)] if suffix else name)
            if model is not None:
                return model, many
    return None


def b_id(world: World, model: type[models.Model]) -> str:
    if model is Workspace:
        return str(world.b.pk)
    return str(world.b_rows[model].pk)


def natural_keys(world: World) -> dict[str, str]:
    """Values that identify B's rows without an id: a write path that matched on them
    without its workspace would change B's rows."""
    lead, company = world.b_rows["eligible_lead"], world.b_rows[Company]
    return {
        "email": lead.email,
        "external_id": lead.external_id,
        "domain": company.domain,
        "company_domain": company.domain,
        "website": company.website,
        "value": world.b_rows[Suppression].value,
        "slug": world.b.slug,
    }


def b_csv(world: World) -> io.BytesIO:
    keys = natural_keys(world)
    upload = io.BytesIO(
        "email,first_name,external_id,company_domain\n"
        f"{keys['email']},Walker,{keys['external_id']},{keys['company_domain']}\n".encode()
    )
    upload.name = "walk.csv"
    return upload


def universal_body(world: World) -> dict[str, Any]:
    """Every id-carrying name with B's ids, and B's natural keys: the body sent to every
    route that writes, under whatever its schema or form asks for."""
    body: dict[str, Any] = {}
    for name, model in _model_names().items():
        value = b_id(world, model)
        body.update({name: value, f"{name}_id": value, f"{name}_ids": [value]})
    body.update(natural_keys(world))
    return body


# -- request bodies from the OpenAPI schema --------------------------------------------------


@functools.cache
def openapi() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def path_regex(template: str) -> str:
    """A regex for the URLs of a schema path such as /api/v1/campaigns/{id}/enroll/."""
    return "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"


def operation_for(url: str, method: str) -> dict[str, Any] | None:
    path = urlsplit(url).path
    # Literal segments first: /suppressions/bulk/ is not /suppressions/{id}/.
    for template, operations in sorted(openapi()["paths"].items(), key=lambda t: t[0].count("{")):
        if re.match(path_regex(template), path):
            return operations.get(method)
    return None


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in schema:
            options = [_resolve(s) for s in schema[combinator] if s.get("type") != "null"]
            merged: dict[str, Any] = {}
            for option in options[:1] if combinator != "allOf" else options:
                merged.update(option)
            schema = {**{k: v for k, v in schema.items() if k != combinator}, **merged}
    return schema


def sample(world: World, name: str, schema: dict[str, Any]) -> Any:
    """A valid value for a schema property, with B's ids and keys where the name says so."""
    schema = _resolve(schema)
    kind = schema.get("type")
    target = fk_target(name)
    if target is not None and kind in ("string", "array", None):
        model, many = target
        return [b_id(world, model)] if many or kind == "array" else b_id(world, model)
    keys = natural_keys(world)
    if name in keys and kind in ("string", None):
        return keys[name]
    enum = [v for v in schema.get("enum", []) if v not in ("", None)]
    if enum:
        return enum[0]
    fmt = schema.get("format")
    if kind == "string":
        if fmt == "email":
            return keys["email"]
        if fmt == "uri":
            return "https://walker.example/"
        if fmt == "date-time":
            return timezone.now().isoformat()
        if fmt == "date":
            return timezone.now().date().isoformat()
        if fmt == "uuid":
            return str(world.b_rows[Lead].pk)
        if fmt == "binary":
            return b_csv(world)
        text = "Walked by the isolation test"
        return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 1), "x")
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "number":
        return schema.get("minimum", 0.5)
    if kind == "boolean":
        return False
    if kind == "array":
        # One item, named as one of them ("values" -> "value": a natural key of B's).
        return [sample(world, name.removesuffix("s"), schema.get("items", {}))]
    if kind == "object":
        return object_sample(world, schema)
    return None


def object_sample(world: World, schema: dict[str, Any]) -> dict[str, Any]:
    """The required properties, and every property that carries ids or natural keys."""
    schema = _resolve(schema)
    required = set(schema.get("required", []))
    body = {}
    for name, prop in schema.get("properties", {}).items():
        if _resolve(prop).get("readOnly"):
            continue
        if name in required or fk_target(name) or name in natural_keys(world):
            body[name] = sample(world, name, prop)
    return body


def api_body(world: World, url: str, method: str) -> tuple[dict[str, Any], str]:
    """(body, format) for an API write: the universal body, rows of it under every model's
    plural (bulk endpoints take rows: `{"leads": [...]}`), then the schema's own fields."""
    operation = operation_for(url, method) or {}
    content = operation.get("requestBody", {}).get("content", {})
    row = {**natural_keys(world), "first_name": "Walker", **_fk_row(world)}
    body = dict(universal_body(world))
    for model in owned_models():
        body[str(model._meta.verbose_name_plural).replace(" ", "_")] = [row]
    if not content:
        return body, "json"
    media = "application/json" if "application/json" in content else next(iter(content))
    body.update(object_sample(world, content[media]["schema"]))
    return body, "json" if media == "application/json" else "multipart"


def _fk_row(world: World) -> dict[str, str]:
    return {name: b_id(world, model) for name, model in _model_names().items()}


# -- request bodies from the web pages' forms ------------------------------------------------


@dataclass(frozen=True)
class Form:
    action: str
    # (name, value as rendered, input type, required)
    fields: tuple[tuple[str, str, str, bool], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field[0] for field in self.fields)


def forms_on(page_url: str, html: str) -> list[Form]:
    """The POST forms of a page, once per submit button that has a name."""
    found = []
    for form in BeautifulSoup(html, "lxml").find_all("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urljoin(page_url, form.get("action") or page_url)
        fields: list[tuple[str, str, str, bool]] = []
        buttons: list[tuple[str, str, str, bool]] = []
        for element in form.find_all(["input", "select", "textarea", "button"]):
            name = element.get("name")
            kind = (element.get("type") or "").lower()
            required = element.has_attr("required")
            if not name:
                continue
            if element.name == "button" or kind == "submit":
                buttons.append((name, element.get("value", ""), "submit", False))
            elif element.name == "select":
                options = element.find_all("option")
                chosen = next((o for o in options if o.has_attr("selected")), None) or next(
                    (o for o in options if o.get("value")), None
                )
                fields.append((name, chosen.get("value", "") if chosen else "", "select", required))
            elif element.name == "textarea":
                fields.append((name, element.text, "textarea", required))
            elif kind in ("checkbox", "radio"):
                if element.has_attr("checked"):
                    fields.append((name, element.get("value", "on"), kind, required))
            elif name != "csrfmiddlewaretoken":
                fields.append((name, element.get("value", ""), kind or "text", required))
        for button in buttons or [None]:
            found.append(Form(action, tuple(fields) + ((button,) if button else ())))
    return found


def form_body(world: World, form: Form) -> dict[str, Any]:
    """The form as rendered, with A's ids swapped for B's, B's ids and keys in every field
    whose name carries them, and the universal body besides."""
    a_ids = {str(row.pk): model for model, row in world.a_rows.items() if isinstance(model, type)}
    a_ids[str(world.a.pk)] = Workspace
    body = dict(universal_body(world))
    keys = natural_keys(world)
    for name, value, kind, required in form.fields:
        target = fk_target(name)
        if kind == "file":
            body[name] = b_csv(world)
        elif target is not None:
            body[name] = b_id(world, target[0])
        elif value in a_ids:
            body[name] = b_id(world, a_ids[value])
        elif name in keys:
            body[name] = keys[name]
        elif value.strip() or not required:
            body[name] = value
        else:
            body[name] = BLANKS.get(kind, "Walked by the isolation test")
            if kind == "email":
                body[name] = keys["email"]
    return body


# What a person would type into an empty input of each type.
BLANKS = {"url": "https://walker.example/", "number": "1", "date": "2030-01-01"}


def is_public(url: str) -> bool:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return True
    return match.url_name in PUBLIC_ROUTES or match.namespace == "admin"


# -- what B holds, to see that A's requests leave it alone -----------------------------------


@functools.cache
def _snapshot_statement() -> tuple[str, int]:
    """One statement that reads every row of a workspace as JSON, and the pairs of its
    many-to-many tables: a snapshot costs one round trip, whatever the number of models.
    Built from the models' table and column names only (hence the S608 exemptions)."""
    qn = connection.ops.quote_name
    selects = []
    for model in owned_models():
        table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
        label = model._meta.label
        selects.append(
            f"SELECT '{label}', CAST(t.{pk} AS text), CAST(to_jsonb(t) AS text) "  # noqa: S608
            f"FROM {table} t WHERE t.workspace_id = %s"
        )
        for m2m in model._meta.many_to_many:
            through = qn(m2m.remote_field.through._meta.db_table)
            source, target = qn(m2m.m2m_column_name()), qn(m2m.m2m_reverse_name())
            selects.append(
                f"SELECT '{label}.{m2m.name}', CAST(m.{source} AS text) || '->' || "  # noqa: S608
                f"CAST(m.{target} AS text), '' FROM {through} m "
                f"JOIN {table} t ON t.{pk} = m.{source} WHERE t.workspace_id = %s"
            )
    return " UNION ALL ".join(selects), len(selects)


def workspace_snapshot(workspace: Workspace) -> dict[str, dict[str, str]]:
    """{model label: {pk: the row as JSON}} for every row of the workspace."""
    statement, params = _snapshot_statement()
    snapshot: dict[str, dict[str, str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, [workspace.pk] * params)
        for label, pk, row in cursor.fetchall():
            snapshot.setdefault(label, {})[pk] = row
    return snapshot


def snapshot_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    changes = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        for pk in sorted(set(new) - set(old)):
            changes.append(f"{label} {pk} created")
        for pk in sorted(set(old) - set(new)):
            changes.append(f"{label} {pk} deleted")
        for pk in sorted(set(old) & set(new)):
            if old[pk] != new[pk]:
                was, now = json.loads(old[pk]), json.loads(new[pk])
                fields = sorted(k for k in was if was[k] != now.get(k))
                changes.append(f"{label} {pk} changed: {', '.join(fields)}")
    return changes


# -- probing ----------------------------------------------------------------------------------


@dataclass
class Probe:
    """One request of A's, made inside a savepoint that is rolled back afterwards, so each
    request starts from the same two workspaces whatever the one before it did."""

    label: str
    status: int | None = None
    body: str = ""
    location: str = ""
    error: str = ""
    changes_to_b: list[str] = field(default_factory=list)
    cross_references: list[str] = field(default_factory=list)


def probe(
    label: str,
    send: Callable[[], Any],
    *,
    b_before: dict[str, Any] | None = None,
    world: World | None = None,
) -> Probe:
    result = Probe(label)
    with transaction.atomic():
        try:
            response = send()
        except Exception as error:  # a view that crashes is a finding, not the end of the walk
            result.error = f"{type(error).__name__}: {error}"
        else:
            result.status = response.status_code
            result.body = response_text(response)
            result.location = response.get("Location", "")
        # A 405 never reached the view: nothing to look at.
        if b_before is not None and world is not None and result.status != 405:
            result.changes_to_b = snapshot_changes(b_before, workspace_snapshot(world.b))
            result.cross_references = [str(ref) for ref in cross_workspace_references()]
        transaction.set_rollback(True)
    return result


def response_text(response: Any) -> str:
    """The body as text, whether the view streamed it (a CSV download) or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def send_api(http: Client, method: str, url: str, body: dict[str, Any], fmt: str) -> Any:
    if fmt == "multipart" and method != "post":
        # Django's test client encodes multipart only for POST; the others get JSON.
        fmt = "json"
    if fmt == "multipart":
        data = {
            k: v for k, v in body.items() if not isinstance(v, dict | list) or k.endswith("_ids")
        }
        return getattr(http, method)(url, data)
    if isinstance(http, APIClient):
        return getattr(http, method)(url, body, format="json")
    return getattr(http, method)(
        url, json.dumps(body, default=str), content_type="application/json"
    )
