"""Input checks at the edge, before any view: the rules every request meets, in one place.

- Text PostgreSQL cannot store (a NUL, a lone surrogate) in the query string or a form
  body is refused with a 400: text columns refuse it and the query or write failed as a
  500 wherever a filter or a field forgot to check. JSON bodies are checked by the JSON
  parser (sdr/parsers.py), which sees the decoded text.
- A JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with a 413 before it is read:
  DRF reads the stream itself, so Django's own limit (which answers form posts with a 400)
  did not apply, and the size failed further in.
- Ids in query strings are read with `query_uuid`, which refuses a malformed one with a
  400 naming the parameter, instead of letting the database raise on the cast.

Under /api/ the answer is the project's JSON error shape; elsewhere Django's 400 page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.views.defaults import bad_request

from sdr.errors import ErrorCode, InvalidQuery, error_body

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def storable(text: str) -> bool:
    """Whether PostgreSQL can store `text`: no NUL, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_storable(params: QueryDict) -> bool:
    return all(storable(key) and all(storable(v) for v in params.getlist(key)) for key in params)


class BadInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _all_storable(request.GET):
            return refuse(request, "The query string contains a NUL character or invalid text.")
        content_type = request.content_type or ""
        if _is_json(content_type) and _declared_length(request) > _max_body():
            return refuse(
                request,
                f"The request body is larger than {_max_body() // 1024} KB.",
                status=413,
                code=ErrorCode.TOO_LARGE,
            )
        if content_type in FORM_TYPES and request.method == "POST":
            try:
                post = request.POST  # parsed here once; views and DRF reuse it
            except (SuspiciousOperation, MultiPartParserError) as error:
                # Too big, too many fields, a broken multipart body: Django answers these
                # with its HTML 400, which is not the API's shape.
                return refuse(request, f"The form body cannot be read: {error}")
            if not _all_storable(post):
                return refuse(request, "The form contains a NUL character or invalid text.")
        return self.get_response(request)


def refuse(
    request: HttpRequest, message: str, *, status: int = 400, code: str = ErrorCode.INVALID
) -> HttpResponse:
    """The refusal: the JSON error shape under /api/, the plain 400 page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code, message), status=status)
    response = bad_request(request, SuspiciousOperation(message))
    response.status_code = status
    return response


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _max_body() -> int:
    limit: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
    return limit


def query_uuid(params: QueryDict | Mapping[str, str], name: str) -> str:
    """The id in query parameter `name`, canonical, or "" if absent or blank (the filters
    take "" as "no filter"); InvalidQuery (a 400 on the web and in the API) if it is not a
    UUID, which the database would otherwise fail to cast."""
    value = (params.get(name) or "").strip()
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidQuery(name, f"{value[:40]!r} is not a valid id.") from None
