"""One application error type and one JSON error shape for every API error.

Every API error body is `{"error": {"code": str, "message": str, "details": ...}}`, with
`details` carrying per-field messages for validation errors and `null` otherwise.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class ErrorCode(StrEnum):
    INVALID = "invalid"
    PARSE_ERROR = "parse_error"
    NOT_FOUND = "not_found"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_API_KEY = "invalid_api_key"
    REVOKED_API_KEY = "revoked_api_key"
    EXPIRED_API_KEY = "expired_api_key"
    PERMISSION_DENIED = "permission_denied"
    NO_WORKSPACE = "no_workspace"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_ACCEPTABLE = "not_acceptable"
    THROTTLED = "throttled"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    SERVER_ERROR = "server_error"


class AppError(Exception):
    """An error the application raises on purpose, with a stable code for API clients."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        code: StrEnum | str,
        message: str,
        *,
        details: Any = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.details = details
        if status_code is not None:
            self.status_code = status_code


class InvalidQuery(BadRequest):
    """A query parameter that cannot be used (a malformed id). Django answers it with its
    400 page on the web; the API handler below gives the error shape, naming the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


_DRF_CODES: dict[type[exceptions.APIException], ErrorCode] = {
    exceptions.ParseError: ErrorCode.PARSE_ERROR,
    exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
    exceptions.AuthenticationFailed: ErrorCode.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: ErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ErrorCode.THROTTLED,
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, AppError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    if isinstance(exc, InvalidQuery):
        return Response(
            error_body(ErrorCode.INVALID, exc.message, {exc.name: [exc.message]}), status=400
        )
    if isinstance(exc, SuspiciousOperation | BadRequest):
        # Django's request limits (too many fields, a body too big) raised while DRF read
        # the request: the client's fault, a 400 as on the web, never a 500.
        return Response(error_body(ErrorCode.INVALID, str(exc) or "Bad request."), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if isinstance(exc, exceptions.ValidationError):
        response = Response(
            error_body(ErrorCode.INVALID, "The request has invalid fields.", exc.detail),
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, exceptions.APIException):
        response = Response(error_body(_code_for(exc), _message_for(exc)), status=exc.status_code)
    else:
        view = context.get("view")
        logger.exception("Unhandled error in API view %s", type(view).__name__)
        return Response(
            error_body(ErrorCode.SERVER_ERROR, "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    # Set by DRF's APIView on authentication failures, and by Throttled.
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        response["Retry-After"] = str(int(wait))
    return response


def _code_for(exc: exceptions.APIException) -> str:
    # Our own AuthenticationFailed raises carry a specific code (invalid_api_key, ...).
    detail_code = getattr(exc.detail, "code", None)
    if detail_code in ErrorCode._value2member_map_:
        return str(detail_code)
    for exc_type, code in _DRF_CODES.items():
        if isinstance(exc, exc_type):
            return code
    return str(exc.default_code)


def _message_for(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, list | dict):
        return str(exc.default_detail)
    return str(detail)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for URLs no route matched: JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(ErrorCode.NOT_FOUND, "No API route matches this URL."), status=404
        )
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body(ErrorCode.SERVER_ERROR, "Something went wrong on our side."), status=500
        )
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
