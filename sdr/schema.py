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
    "schema": {"type": "string", "pattern": "^[ -~]{1,255}$"},
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
