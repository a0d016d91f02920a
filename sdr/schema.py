"""drf-spectacular: our API key authentication, and the error responses of every operation."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class WorkspaceAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "sdr.auth.WorkspaceAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys in Settings, API keys, "
            "or with `manage.py create_api_key`.",
        }


class ApiErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, e.g. invalid, not_found, conflict")
    message = serializers.CharField(help_text="For a person to read")
    details = serializers.JSONField(
        allow_null=True,
        help_text="Per-field messages for invalid input, the existing row's id for a "
        "conflict, or null",
    )


class ApiErrorOutput(serializers.Serializer):
    error = ApiErrorBody()


# What each error status means; which ones an operation documents is derived from its shape.
_ERRORS = {
    400: "Invalid input: `details` names the fields and why.",
    401: "No credentials, or an invalid, revoked or expired API key.",
    403: "Not allowed: no workspace, or an act reserved for owners and admins.",
    404: "No such row in this workspace (another workspace's ids are 404 too), or a stale "
    "page cursor.",
    409: "Conflicts with the current state: a duplicate, an archived campaign, a draft "
    "that is no longer reviewable; or a request with the same `Idempotency-Key` still running.",
    422: "This `Idempotency-Key` was used with another request.",
    429: "Too many requests for this API key (or invalid keys from this address): wait the "
    "`Retry-After` seconds.",
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    # Printable ASCII, not only spaces (sdr.idempotency answers 400 to a blank key).
    "schema": {"type": "string", "maxLength": 255, "pattern": "^[ -~]*[!-~][ -~]*$"},
    "description": "Send the same key again (with the same body) to get the first answer "
    "instead of doing the work twice; keys are kept for 24 hours at least.",
}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error responses every operation can give, in
    the one error shape (`sdr.errors`). Without them a client validating responses against
    the schema (schemathesis does) sees every 4xx as undocumented."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        codes = set()
        security = operation.get("security", [])
        if security and {} not in security:
            codes |= {401, 403, 429}
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.add(400)
        if any(p["in"] == "path" or p["name"] == "cursor" for p in parameters):
            codes.add(404)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            codes.add(409)
        if self.method == "POST" and security and {} not in security:
            operation["parameters"] = [*parameters, IDEMPOTENCY_KEY]
            codes |= {400, 422}
        error = self.resolve_serializer(ApiErrorOutput, "response").ref
        for code in sorted(codes):
            operation["responses"].setdefault(
                str(code),
                {"description": _ERRORS[code], "content": {"application/json": {"schema": error}}},
            )
        return operation


# OpenAPI links, so a client (and schemathesis' stateful phase) can follow what one
# operation returns into the next: create a campaign, then pause it, resume it, archive it.
_ITEM = "{id}/"
_METHODS = ("get", "post", "put", "patch", "delete")


def links_in_schema(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: `links` derived from the paths the router made.

    For each collection `P` with operations on `P{id}/...`, a create (`POST P`) links each
    2xx answer that has an `id` to every one of them, with `id: $response.body#/id`, and a
    list (`GET P`) links its first row the same way (`$response.body#/results/0/id`).
    Derived rather than written per endpoint, so a new action on a row is linked the day
    the router serves it.

    No links from one row operation to the next: a client (and schemathesis, whose state
    machine keeps every answer of a scenario) goes create, pause, resume, archive with the
    id the create gave. Schemathesis also starts scenarios at any POST with an outgoing
    link, so links out of `POST P{id}/pause/` would spend its budget on random ids."""
    paths: dict[str, dict[str, Any]] = result.get("paths", {})
    schemas: dict[str, Any] = result.get("components", {}).get("schemas", {})
    rows: dict[str, list[str]] = {}  # collection path: the operationIds on its rows
    for path, item in paths.items():
        if _ITEM in path:
            collection = path[: path.index(_ITEM)]
            rows.setdefault(collection, []).extend(
                item[method]["operationId"] for method in _METHODS if method in item
            )
    for collection, targets in rows.items():
        producers = paths.get(collection, {})
        if "post" in producers:
            _link(producers["post"], targets, schemas, "#/id", "the created row")
        if "get" in producers:
            _link(producers["get"], targets, schemas, "#/results/0/id", "the first row listed")
    return result


def _link(
    operation: dict[str, Any],
    targets: list[str],
    schemas: dict[str, Any],
    pointer: str,
    what: str,
) -> None:
    """Link each 2xx response of `operation` whose body has an id at `pointer` to each of
    `targets`, by operationId."""
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2") or not _has_pointer(response, schemas, pointer):
            continue
        links = response.setdefault("links", {})
        for operation_id in targets:
            links.setdefault(
                operation_id,
                {
                    "operationId": operation_id,
                    "parameters": {"id": f"$response.body{pointer}"},
                    "description": f"`{operation_id}` on {what}.",
                },
            )


def _has_pointer(response: dict[str, Any], schemas: dict[str, Any], pointer: str) -> bool:
    """Whether the JSON body this response documents has a property at `pointer` ("#/a/0/b")."""
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    for part in pointer.removeprefix("#/").split("/"):
        while isinstance(schema, dict) and "$ref" in schema:
            schema = schemas.get(schema["$ref"].removeprefix("#/components/schemas/"))
        if not isinstance(schema, dict):
            return False
        schema = schema.get("items") if part.isdigit() else schema.get("properties", {}).get(part)
    return schema is not None
