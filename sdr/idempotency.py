"""`Idempotency-Key` on every API POST: a repeat gets the first answer, not a second run.

A client that timed out cannot know whether its POST happened; sent again with the same
key, it gets the first response (status and body, plus `Idempotent-Replayed: true`)
without the work being done twice. The same key with another body answers 422; while the
first request is still running, a repeat answers 409 with `Retry-After`.

A middleware rather than a view mixin: the API's viewsets share no base class on purpose
(sdr/api_base.py), and a key must cover every POST, actions included. Records are kept
for IDEMPOTENCY_TTL_HOURS (at least 24) and then deleted by a beat task.

Answers that say nothing about the work are not kept, so a retry can still do it:
server errors, authentication and permission failures, throttling. A worker killed
between doing the work and storing its answer leaves a record "running"; after
IDEMPOTENCY_STALE_SECONDS a repeat may run again (the rare case the work is redone).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from sdr.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(rf"[ -~]{{1,{MAX_KEY_LENGTH}}}")
# Answers that do not tell whether the work was done: a retry must be free to do it.
_NOT_KEPT = {401, 403, 409, 429}


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        principal = _principal(request)
        if principal is None:  # no credentials: the view answers 401 and nothing is kept
            return self.get_response(request)
        if not KEY_PATTERN.fullmatch(key) or not key.strip():
            return _error(
                400,
                "invalid",
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (a UUID is "
                "a good choice).",
            )
        fingerprint = _request_hash(request)
        record, first = _claim(principal, key, fingerprint)
        if not first:
            return _repeat(record, fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        _store(record, response)
        return response


def _principal(request: HttpRequest) -> str | None:
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return hashlib.sha256(authorization.encode()).hexdigest()
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return hashlib.sha256(f"user:{user.pk}".encode()).hexdigest()
    return None


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type == "multipart/form-data":
        # Reading the raw body would hold a whole upload in memory twice; hash the parsed
        # parts instead (DRF reuses Django's parse of them).
        for name, value in sorted(request.POST.lists()):
            digest.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"{name}:{upload.name}:{upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _claim(principal: str, key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """(record, True) when this request is the first with the key; the existing one
    otherwise. A record left running past the stale limit is taken over."""
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                principal=principal, key=key, request_hash=fingerprint
            )
        return record, True
    except IntegrityError:
        pass
    stale = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_STALE_SECONDS)
    existing = IdempotencyRecord.objects.get(principal=principal, key=key)
    if existing.response_status is None and existing.request_hash == fingerprint:
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, response_status__isnull=True, created_at__lt=stale
        ).update(created_at=timezone.now())
        if taken:
            return existing, True
    return existing, False


def _repeat(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.request_hash != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            f"This {HEADER} was used with another request; use a new key for a new request.",
        )
    if record.response_status is None:
        busy = _error(
            409, "conflict", f"A request with this {HEADER} is still running; try again shortly."
        )
        busy["Retry-After"] = "1"
        return busy
    response = HttpResponse(
        bytes(record.response_body or b""),
        status=record.response_status,
        content_type=record.response_content_type or None,
    )
    response["Idempotent-Replayed"] = "true"
    return response


def _store(record: IdempotencyRecord, response: HttpResponse) -> None:
    if response.status_code >= 500 or response.status_code in _NOT_KEPT or response.streaming:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        response_status=response.status_code,
        response_body=response.content,
        response_content_type=response.get("Content-Type", "")[:100],
    )


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": code, "message": message, "details": None}}, status=status
    )


def idempotency_records_expire() -> int:
    """Delete the records past their keeping time; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
