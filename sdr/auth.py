"""API authentication: `Authorization: Api-Key <prefix>.<secret>` names the workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from sdr import rls
from sdr.activity import Actor, actor_set
from sdr.errors import ErrorCode
from sdr.http import ApiRequest
from sdr.models import Workspace, WorkspaceAPIKey
from sdr.ratelimit import Limit, blocked, client_address, take

# Recording every use would turn each read request into a write; a minute is plenty for
# "last used" in the key list.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class APIKeyPrincipal:
    """The `request.user` of a request made with an API key: the workspace's integration."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, api_key: WorkspaceAPIKey) -> None:
        self.api_key = api_key
        self.workspace = api_key.workspace

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix} ({self.api_key.name})"


class WorkspaceAPIKeyAuthentication(BaseAuthentication):
    keyword = "api-key"

    def authenticate(self, request: Request) -> tuple[APIKeyPrincipal, WorkspaceAPIKey] | None:
        header = get_authorization_header(request)
        if not header:
            return None
        try:
            scheme, _, key = header.decode("latin-1").partition(" ")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
            return None
        if scheme.lower() != self.keyword:
            return None
        failures = f"apiauth:{client_address(request)}"
        limit = Limit.per_minute(
            settings.API_AUTH_FAILURES_PER_MINUTE, burst=settings.API_AUTH_FAILURES_BURST
        )
        # Checked before the key, so that guessing gets no answer at all while locked out.
        lockout = blocked(failures, limit)
        if not lockout.allowed:
            raise exceptions.Throttled(
                wait=lockout.retry_after,
                detail="Too many requests with invalid API keys from your address.",
            )
        try:
            api_key = self._lookup(key.strip())
        except exceptions.AuthenticationFailed:
            take(failures, limit)
            raise
        self._touch(api_key)
        return APIKeyPrincipal(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return "Api-Key"

    def _lookup(self, key: str) -> WorkspaceAPIKey:
        invalid = exceptions.AuthenticationFailed(
            "The API key is not valid. Send 'Authorization: Api-Key <key>' with a key "
            "created for your workspace.",
            code=ErrorCode.INVALID_API_KEY,
        )
        prefix, dot, _ = key.partition(".")
        if not dot or not prefix:
            raise invalid
        api_key = WorkspaceAPIKey.objects.select_related("workspace").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
            raise invalid
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(
                "This API key has been revoked. Create a new one in Settings, API keys.",
                code=ErrorCode.REVOKED_API_KEY,
            )
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(
                "This API key has expired. Create a new one in Settings, API keys.",
                code=ErrorCode.EXPIRED_API_KEY,
            )
        return api_key

    def _touch(self, api_key: WorkspaceAPIKey) -> None:
        now = timezone.now()
        # Decided on the row just read, so a request within the minute sends no statement
        # at all; the condition in the UPDATE keeps concurrent requests to one write.
        last_used = api_key.last_used_at
        if last_used is not None and last_used >= now - LAST_USED_RESOLUTION:
            return
        WorkspaceAPIKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


def required_scope(request: Request, view: Any) -> str:
    """The scope an API key needs for this request: `read` to look, `write` to change,
    unless the view names another for the action (`action_scopes = {"approve": "send"}`)."""
    declared = getattr(view, "action_scopes", {}).get(getattr(view, "action", None))
    if declared:
        return str(declared)
    safe = request.method in {"GET", "HEAD", "OPTIONS"}
    return WorkspaceAPIKey.Scope.READ if safe else WorkspaceAPIKey.Scope.WRITE


def scope_check(api_key: WorkspaceAPIKey, scope: str) -> None:
    if scope not in (api_key.scopes or []):
        raise exceptions.PermissionDenied(
            f"This API key does not have the '{scope}' scope "
            f"({WorkspaceAPIKey.Scope(scope).label.lower()}). An owner can create a key "
            "with it in Settings, API keys.",
            code=ErrorCode.PERMISSION_DENIED,
        )


def request_workspace(request: Request) -> Workspace | None:
    if isinstance(request.auth, WorkspaceAPIKey):
        return request.auth.workspace
    # Session users: chosen by CurrentWorkspaceMiddleware on the underlying HttpRequest.
    return getattr(request._request, "workspace", None)


class HasWorkspace(BasePermission):
    """Signed in (key or session) and acting for a workspace; sets `request.workspace`."""

    def has_permission(self, request: Request, view: Any) -> bool:
        # DRF's default unauthenticated user is AnonymousUser, never None.
        if not request.user.is_authenticated:
            return False
        workspace = request_workspace(request)
        if workspace is None:
            raise exceptions.PermissionDenied(
                "Your account is not a member of any workspace.", code=ErrorCode.NO_WORKSPACE
            )
        if isinstance(request.auth, WorkspaceAPIKey):
            scope_check(request.auth, required_scope(request, view))
        # This is what makes the request an ApiRequest for the view (sdr.http).
        cast(ApiRequest, request).workspace = workspace
        # The database acts for it too, until the request's scope ends (sdr.rls).
        rls.switch_to(workspace)
        # Reset with the request by CurrentWorkspaceMiddleware's acting_as.
        actor_set(
            Actor.api_key(request.auth)
            if isinstance(request.auth, WorkspaceAPIKey)
            else Actor.user(request.user)
        )
        return True
