"""API authentication: `Authorization: Api-Key <prefix>.<secret>` names the workspace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from sdr.activity import Actor, actor_set
from sdr.errors import ErrorCode
from sdr.http import ApiRequest
from sdr.models import Workspace, WorkspaceAPIKey

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
        api_key = self._lookup(key.strip())
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
        WorkspaceAPIKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)


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
        # This is what makes the request an ApiRequest for the view (sdr.http).
        cast(ApiRequest, request).workspace = workspace
        # Reset with the request by CurrentWorkspaceMiddleware's acting_as.
        actor_set(
            Actor.api_key(request.auth)
            if isinstance(request.auth, WorkspaceAPIKey)
            else Actor.user(request.user)
        )
        return True
