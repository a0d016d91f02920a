"""Outbound webhooks: the activity log, pushed to the customer's endpoints, signed, in order.

The activity log is the outbox. `webhooks_fanout` cuts a delivery row for each new
activity an endpoint subscribes to (in feed order, advancing the endpoint's cursor in the
same transaction), and `endpoint_deliver` sends an endpoint's pending deliveries one at a
time, oldest first, each attempt recorded in its own transaction. A worker that dies
mid-send leaves the delivery pending and the endpoint's lease runs out: the next pass sends
it again, so delivery is at least once and a receiver dedupes on `SDR-Event-Id`.

Strict order per endpoint is what makes "in order of occurrence per object" hold; the price
is that a failing delivery holds the ones after it. It is retried with backoff, and after
`WEBHOOK_GIVE_UP_SECONDS` (a day) of failures the endpoint is disabled and its owners told;
enabling it again resumes at the delivery that failed.

Signature: `SDR-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sdr.activity import activities_publish, activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Activity, WebhookDelivery, WebhookEndpoint, Workspace
from sdr.netguard import AddressRefused, vet_host
from sdr.notify import owners_notify

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "SDR-Signature"
EVENT_TYPE_PATTERN = re.compile(r"^(\*|[a-z_]{1,40}\.(\*|[a-z_]{1,40}))$")
MAX_EVENT_TYPES = 50
# Seconds after the first failed attempt of a delivery; the last step repeats until the
# endpoint is given up on (WEBHOOK_GIVE_UP_SECONDS).
BACKOFF = (10, 30, 60, 300, 900, 1800, 3600, 7200, 14400)
LOG_ENTRIES = 20
RESPONSE_EXCERPT = 500
FANOUT_BATCH = 1000


# --- endpoints ---------------------------------------------------------------------------


def endpoint_create(
    *,
    workspace: Workspace,
    url: str,
    event_types: list[str],
    description: str = "",
    user: Any = None,
) -> WebhookEndpoint:
    """Register an endpoint; it hears about activities recorded from now on."""
    event_types = event_types_check(event_types)
    url = endpoint_url_check(url)
    activities_publish()
    latest = (
        Activity.objects.for_workspace(workspace)
        .filter(seq__isnull=False)
        .order_by("-seq")
        .values_list("seq", flat=True)
        .first()
    )
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.for_workspace(workspace).create(
            workspace=workspace,
            url=url,
            event_types=event_types,
            description=description,
            secret=_new_secret(),
            cursor=latest or 0,
            created_by=user if getattr(user, "pk", None) else None,
        )
        _audit(endpoint, "webhook.created", url=url)
    return endpoint


def endpoint_update(endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change the URL, the event types, the description or the status. Enabling a disabled
    endpoint resumes its deliveries where they stopped."""
    if "url" in changes:
        changes["url"] = endpoint_url_check(changes["url"])
    if "event_types" in changes:
        changes["event_types"] = event_types_check(changes["event_types"])
    if changes.get("status") == WebhookEndpoint.Status.ACTIVE:
        changes |= {"disabled_reason": "", "failing_since": None}
        # The held delivery gets a fresh start instead of waiting out its backoff.
        WebhookDelivery.objects.for_workspace(endpoint.workspace).filter(
            endpoint=endpoint, status=WebhookDelivery.Status.PENDING
        ).update(next_attempt_at=None)
    with transaction.atomic():
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.save()
        _audit(endpoint, "webhook.updated", fields=sorted(changes))
    return endpoint


def endpoint_rotate_secret(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    with transaction.atomic():
        endpoint.secret = _new_secret()
        endpoint.save(update_fields=["secret", "updated_at"])
        _audit(endpoint, "webhook.secret_rotated")
    return endpoint


def endpoint_delete(endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        _audit(endpoint, "webhook.deleted", url=endpoint.url)
        endpoint.delete()


def endpoint_url_check(url: str) -> str:
    """The endpoint URL, or a 400 saying what is wrong with it. The host is checked again
    before every delivery (its address may change)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    allowed = ("https",) if settings.WEBHOOK_REQUIRE_HTTPS else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        raise _invalid("url", f"Give an {' or '.join(allowed)} URL with a host name.")
    if parts.username or parts.password:
        raise _invalid("url", "Leave credentials out of the URL; verify our signature instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        vet_host(parts.hostname, port, allowed_networks=settings.WEBHOOK_ALLOWED_NETWORKS)
    except (AddressRefused, ValueError) as error:
        raise _invalid("url", f"We cannot deliver there: {error}") from None
    return url


def event_types_check(event_types: Any) -> list[str]:
    if not isinstance(event_types, list) or not event_types:
        raise _invalid("event_types", 'Give a list, e.g. ["reply.*", "outcome.created"].')
    if len(event_types) > MAX_EVENT_TYPES:
        raise _invalid("event_types", f"At most {MAX_EVENT_TYPES} entries.")
    bad = [t for t in event_types if not isinstance(t, str) or not EVENT_TYPE_PATTERN.match(t)]
    if bad:
        raise _invalid(
            "event_types",
            'Each entry is an activity type ("reply.classified"), a prefix ("reply.*") or "*".',
        )
    return sorted(set(event_types))


def subscribed(event_types: list[str], activity_type: str) -> bool:
    prefix = activity_type.split(".", 1)[0] + ".*"
    return "*" in event_types or activity_type in event_types or prefix in event_types


# --- fan-out: the outbox ------------------------------------------------------------------


def webhooks_fanout() -> int:
    """Cut deliveries for the activities committed since each active endpoint's cursor;
    returns how many were cut."""
    activities_publish()
    created = 0
    endpoint_ids = WebhookEndpoint.unscoped_objects.filter(
        status=WebhookEndpoint.Status.ACTIVE
    ).values_list("pk", flat=True)
    for endpoint_id in endpoint_ids:
        created += _fanout_one(endpoint_id)
    return created


def _fanout_one(endpoint_id: Any) -> int:
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.unscoped_objects.select_for_update(skip_locked=True)
            .filter(pk=endpoint_id, status=WebhookEndpoint.Status.ACTIVE)
            .first()
        )
        if endpoint is None:  # another worker is cutting its deliveries, or it was disabled
            return 0
        activities = list(
            Activity.objects.for_workspace(endpoint.workspace)
            .filter(seq__gt=endpoint.cursor)
            .order_by("seq")
            .only("pk", "seq", "type")[:FANOUT_BATCH]
        )
        if not activities:
            return 0
        deliveries = [
            WebhookDelivery(
                workspace_id=endpoint.workspace_id,
                endpoint=endpoint,
                activity_id=activity.pk,
                seq=activity.seq,
                event_type=activity.type,
            )
            for activity in activities
            if subscribed(endpoint.event_types, activity.type)
        ]
        WebhookDelivery.unscoped_objects.bulk_create(deliveries, ignore_conflicts=True)
        endpoint.cursor = activities[-1].seq or endpoint.cursor
        endpoint.save(update_fields=["cursor"])
    return len(deliveries)


def endpoints_due(now: datetime | None = None) -> list[Any]:
    """Active endpoints with a delivery ready to be sent and no worker sending them."""
    now = now or timezone.now()
    due = WebhookDelivery.unscoped_objects.filter(
        status=WebhookDelivery.Status.PENDING,
        endpoint__status=WebhookEndpoint.Status.ACTIVE,
    ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    free = Q(endpoint__sending_until__isnull=True) | Q(endpoint__sending_until__lt=now)
    return list(due.filter(free).values_list("endpoint_id", flat=True).distinct())


# --- delivery -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None
    error: str
    response: str
    ms: int


def endpoint_deliver(endpoint_id: Any, *, budget_seconds: float | None = None) -> int:
    """Send the endpoint's pending deliveries in order until one fails, none is due, or
    the time budget is spent; returns how many were delivered."""
    budget = settings.WEBHOOK_DELIVER_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    if not _lease(endpoint_id, budget):
        return 0
    delivered = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < budget:
            delivery = _next_due(endpoint_id)
            if delivery is None:
                break
            attempt = _post(delivery)
            _record(delivery, attempt)
            if not attempt.ok:
                break
            delivered += 1
    finally:
        WebhookEndpoint.unscoped_objects.filter(pk=endpoint_id).update(sending_until=None)
    return delivered


def _lease(endpoint_id: Any, budget: float) -> bool:
    now = timezone.now()
    # The lease outlives the budget by the longest request, so it cannot lapse mid-send.
    until = now + timedelta(seconds=budget + settings.WEBHOOK_TIMEOUT + 5)
    free = Q(sending_until__isnull=True) | Q(sending_until__lt=now)
    return bool(
        WebhookEndpoint.unscoped_objects.filter(
            free, pk=endpoint_id, status=WebhookEndpoint.Status.ACTIVE
        ).update(sending_until=until)
    )


def _next_due(endpoint_id: Any) -> WebhookDelivery | None:
    head = (
        WebhookDelivery.unscoped_objects.filter(
            endpoint_id=endpoint_id,
            status=WebhookDelivery.Status.PENDING,
            endpoint__status=WebhookEndpoint.Status.ACTIVE,
        )
        .select_related("endpoint", "activity", "workspace")
        .order_by("seq")
        .first()
    )
    if head is None or (head.next_attempt_at and head.next_attempt_at > timezone.now()):
        return None  # the oldest waits out its backoff, and holds the rest behind it
    return head


def event_body(activity: Activity) -> bytes:
    from sdr.api import ActivityOutput  # the feed's shape: a webhook is a pushed feed entry

    return json.dumps(ActivityOutput(activity).data, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _post(delivery: WebhookDelivery) -> Attempt:
    endpoint = delivery.endpoint
    body = event_body(delivery.activity)
    timestamp = int(time.time())
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    parts = urlsplit(endpoint.url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = vet_host(
            parts.hostname or "", port, allowed_networks=settings.WEBHOOK_ALLOWED_NETWORKS
        )
    except (AddressRefused, ValueError) as error:
        return Attempt(False, None, f"Refused: {error}", "", took())
    headers = {
        "Host": parts.netloc.rsplit("@", 1)[-1],
        "Content-Type": "application/json",
        "User-Agent": settings.WEBHOOK_USER_AGENT,
        "SDR-Event-Id": str(delivery.seq),
        "SDR-Event-Type": delivery.event_type,
        SIGNATURE_HEADER: signature(endpoint.secret, timestamp, body),
    }
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    try:
        # trust_env off: a proxy from the environment would bypass the address check.
        with (
            httpx.Client(timeout=settings.WEBHOOK_TIMEOUT, trust_env=False) as client,
            client.stream(
                "POST",
                _dial_url(parts, address, port),
                content=body,
                headers=headers,
                extensions=extensions,
            ) as response,
        ):
            excerpt = _excerpt(response)
    except httpx.HTTPError as failure:
        return Attempt(False, None, _transport_error(failure), "", took())
    ok = 200 <= response.status_code < 300
    said = "" if ok else f"The endpoint answered {response.status_code}."
    return Attempt(ok, response.status_code, said, excerpt, took())


def _dial_url(parts: Any, address: str, port: int) -> str:
    # The vetted address, not the name: a second lookup could answer differently.
    host = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))


def _excerpt(response: httpx.Response) -> str:
    taken = b""
    for chunk in response.iter_bytes():
        taken += chunk
        if len(taken) >= RESPONSE_EXCERPT:
            break
    return taken[:RESPONSE_EXCERPT].decode("utf-8", "replace")


def _transport_error(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"No answer within {settings.WEBHOOK_TIMEOUT:g} s."
    if isinstance(error, httpx.ConnectError):
        return f"Could not connect: {error}"[:300]
    return f"The connection failed: {error}"[:300]


def _record(delivery: WebhookDelivery, attempt: Attempt) -> None:
    now = timezone.now()
    entry = {
        "at": now.isoformat(),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "response": attempt.response,
        "ms": attempt.ms,
    }
    delivery.attempts += 1
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error[:500]
    delivery.log = [*delivery.log, entry][-LOG_ENTRIES:]
    endpoint = delivery.endpoint
    with transaction.atomic():
        if attempt.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
        else:
            step = BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
            delivery.next_attempt_at = now + timedelta(seconds=step)
            if endpoint.failing_since is None:
                endpoint.failing_since = now
                endpoint.save(update_fields=["failing_since"])
            elif (now - endpoint.failing_since).total_seconds() > settings.WEBHOOK_GIVE_UP_SECONDS:
                _disable(endpoint, attempt)
        delivery.save()


def _disable(endpoint: WebhookEndpoint, attempt: Attempt) -> None:
    since = endpoint.failing_since
    reason = f"Failing since {since:%Y-%m-%d %H:%M} UTC; last: {attempt.error}"[:300]
    endpoint.status = WebhookEndpoint.Status.DISABLED
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["status", "disabled_reason", "updated_at"])
    _audit(endpoint, "webhook.disabled", reason=reason)
    transaction.on_commit(
        lambda: owners_notify(
            endpoint.workspace,
            subject="A webhook endpoint was disabled",
            body=(
                f"Deliveries to {endpoint.url} kept failing, so the endpoint was disabled.\n"
                f"{reason}\n\nNothing is lost: enable it again once it answers, and the "
                "held deliveries are sent in order."
            ),
        )
    )


# --- helpers ------------------------------------------------------------------------------


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _invalid(field: str, message: str) -> AppError:
    return AppError(ErrorCode.INVALID, message, details={field: [message]})


def _audit(endpoint: WebhookEndpoint, type: str, **payload: Any) -> None:
    activity_record(
        workspace=endpoint.workspace_id,
        type=type,
        object_type="webhook",
        object_id=endpoint.pk,
        payload=payload,
    )
