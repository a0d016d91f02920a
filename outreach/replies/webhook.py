"""The signed inbound-email webhook: a mail provider (or the customer's own relay) posts
each raw message it receives for the customer.

    POST /inbound/email/<workspace slug>/
    Content-Type: message/rfc822 (or application/octet-stream)
    X-SDR-Timestamp: <unix seconds>
    X-SDR-Signature: v1=<hex HMAC-SHA256 of b"<timestamp>." + body, keyed with the secret>

The signature is checked on the raw body, in constant time, before anything reads it; a
timestamp further than INBOUND_WEBHOOK_MAX_SKEW_SECONDS from our clock is refused, so a
captured request cannot be replayed later. A good request is stored (`inbound_store`) and
answered 202 with the stored message's id; the same message posted again answers 200 with
the same id, so a sender may retry freely. Each workspace has its own secret
(`manage.py inbound_secret`); without one the webhook is off and answers 404, like an
unknown workspace.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from outreach.models import InboundEmail
from sdr import rls
from sdr.activity import activity_record
from sdr.errors import error_body
from sdr.models import Workspace

SIGNATURE_VERSION = "v1"
CONTENT_TYPES = ("message/rfc822", "application/octet-stream")


class WebhookErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    MISSING_HEADER = "missing_header"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    BAD_SIGNATURE = "bad_signature"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    EMPTY = "empty"


@dataclass
class WebhookRefused(Exception):
    status: int
    code: WebhookErrorCode
    message: str


def signature_make(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-SDR-Signature value for `body` sent at `timestamp` (what a sender computes)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={digest.hexdigest()}"


def signature_verify(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> None:
    """Raise WebhookRefused unless `signature` signs `body` at a recent `timestamp`. Several
    comma-separated `v1=` values may be given (a sender rolling over to a new secret)."""
    if not timestamp or not signature:
        raise WebhookRefused(
            400,
            WebhookErrorCode.MISSING_HEADER,
            "X-SDR-Timestamp and X-SDR-Signature are both required.",
        )
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRefused(
            400, WebhookErrorCode.BAD_TIMESTAMP, "X-SDR-Timestamp must be Unix time in seconds."
        )
    skew = abs((time.time() if now is None else now) - int(timestamp))
    if skew > settings.INBOUND_WEBHOOK_MAX_SKEW_SECONDS:
        raise WebhookRefused(
            401,
            WebhookErrorCode.STALE_TIMESTAMP,
            f"X-SDR-Timestamp is {int(skew)} s away from our clock (at most "
            f"{settings.INBOUND_WEBHOOK_MAX_SKEW_SECONDS} s): sign each request when sending it.",
        )
    offered = [
        value.strip()[len(SIGNATURE_VERSION) + 1 :]
        for value in signature.split(",")
        if value.strip().startswith(f"{SIGNATURE_VERSION}=")
    ]
    if not offered:
        raise WebhookRefused(
            400, WebhookErrorCode.MISSING_HEADER, "X-SDR-Signature must be v1=<hex digest>."
        )
    expected = signature_make(secret=secret, timestamp=timestamp, body=body)
    expected_hex = expected[len(SIGNATURE_VERSION) + 1 :].encode()
    # compare_digest on every candidate, without stopping early: the time taken says
    # nothing about how much of a guess was right.
    matches = [
        hmac.compare_digest(expected_hex, value.encode("ascii", "replace")) for value in offered
    ]
    if not any(matches):
        raise WebhookRefused(
            401,
            WebhookErrorCode.BAD_SIGNATURE,
            "The signature does not match the body with this workspace's secret.",
        )


def inbound_webhook_receive(
    *,
    slug: str,
    content_type: str,
    content_length: int | None,
    headers: dict[str, str],
    read: Callable[[int], bytes],
) -> tuple[InboundEmail, bool]:
    """Check one webhook request and store its message; WebhookRefused says why not.
    `read(n)` reads at most n bytes of the body: a body over the limit is never read whole."""
    from outreach.replies.ingest import inbound_store

    workspace = Workspace.objects.filter(slug=slug).first()
    secret = str(workspace.inbound_webhook_secret or "") if workspace is not None else ""
    if workspace is None or not secret:
        raise WebhookRefused(
            404, WebhookErrorCode.NOT_FOUND, "No workspace takes inbound email at this address."
        )
    limit = settings.INBOUND_MAX_BYTES
    too_big = WebhookRefused(
        413,
        WebhookErrorCode.TOO_LARGE,
        f"The message is over {limit} bytes (INBOUND_MAX_BYTES); it was not stored.",
    )
    if content_length is not None and content_length > limit:
        raise too_big
    if content_type.split(";", 1)[0].strip().lower() not in CONTENT_TYPES:
        raise WebhookRefused(
            415,
            WebhookErrorCode.UNSUPPORTED_MEDIA_TYPE,
            "Send the raw message as message/rfc822 (or application/octet-stream).",
        )
    body = read(limit + 1)
    if len(body) > limit:
        raise too_big
    signature_verify(
        secret=secret,
        timestamp=headers.get("timestamp", "").strip(),
        signature=headers.get("signature", "").strip(),
        body=body,
    )
    if not body.strip():
        raise WebhookRefused(
            400, WebhookErrorCode.EMPTY, "The body is empty: send the raw message."
        )
    with rls.workspace_scope(workspace):
        return inbound_store(workspace, body, source=InboundEmail.Source.WEBHOOK)


# No CSRF token and no session: the caller is a mail provider, and the signature over the
# body is its only credential.
@csrf_exempt
@require_POST
def inbound_email_webhook(request: HttpRequest, slug: str) -> JsonResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        length = None
    try:
        inbound, created = inbound_webhook_receive(
            slug=slug,
            content_type=request.content_type or "",
            content_length=length,
            headers={
                "timestamp": request.headers.get("X-SDR-Timestamp", ""),
                "signature": request.headers.get("X-SDR-Signature", ""),
            },
            # The stream, not request.body: Django refuses a body over
            # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) when asked for it whole.
            read=request.read,
        )
    except WebhookRefused as refused:
        return JsonResponse(error_body(refused.code, refused.message), status=refused.status)
    return JsonResponse(
        {"id": str(inbound.pk), "status": inbound.status, "duplicate": not created},
        status=202 if created else 200,
    )


# --- the secret ----------------------------------------------------------------------------


def inbound_secret_rotate(*, workspace: Workspace) -> str:
    """A new webhook secret for the workspace (the old one stops working at once); returned
    once, to be shown once. The activity says that it changed, never what it is."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        Workspace.objects.filter(pk=workspace.pk).update(inbound_webhook_secret=secret)
        activity_record(
            workspace=workspace,
            type="workspace.inbound_secret_rotated",
            object_type="workspace",
            object_id=workspace.pk,
            payload={},
        )
    workspace.inbound_webhook_secret = secret
    return secret


def inbound_secret_disable(*, workspace: Workspace) -> None:
    """Turn the webhook off for the workspace: every request answers 404 from now on."""
    with transaction.atomic():
        Workspace.objects.filter(pk=workspace.pk).update(inbound_webhook_secret="")
        activity_record(
            workspace=workspace,
            type="workspace.inbound_secret_disabled",
            object_type="workspace",
            object_id=workspace.pk,
            payload={},
        )
    workspace.inbound_webhook_secret = ""
