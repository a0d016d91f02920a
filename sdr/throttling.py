"""DRF throttle: each API key's requests, from a token bucket (sdr/ratelimit.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from sdr.models import WorkspaceAPIKey
from sdr.ratelimit import Limit, take


class ApiKeyRate(BaseThrottle):
    """API_RATE_PER_MINUTE sustained, API_RATE_BURST at once, per API key. Requests of
    people signed in to the web UI are not counted: they are the product's own pages."""

    def __init__(self) -> None:
        self._wait = 0

    def allow_request(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, WorkspaceAPIKey):
            return True
        limit = Limit.per_minute(settings.API_RATE_PER_MINUTE, burst=settings.API_RATE_BURST)
        decision = take(f"api:{request.auth.prefix}", limit)
        self._wait = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait or None
