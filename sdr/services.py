"""Writes on workspaces, members and API keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Membership, Workspace, WorkspaceAPIKey


def api_key_create(
    *,
    workspace: Workspace,
    name: str,
    created_by: User | None = None,
    scopes: Iterable[str] = ("read", "write"),
) -> tuple[WorkspaceAPIKey, str]:
    """Create a key and return it with its clear text, which exists only in this return value."""
    name = name.strip()
    if not name:
        raise AppError(ErrorCode.INVALID, "An API key needs a name, e.g. the CRM it is for.")
    if len(name) > 50:
        raise AppError(ErrorCode.INVALID, "An API key name is at most 50 characters.")
    chosen = [s for s in WorkspaceAPIKey.Scope.values if s in set(scopes)]
    unknown = set(scopes) - set(chosen)
    if unknown or not chosen:
        raise AppError(
            ErrorCode.INVALID,
            f"Choose scopes among {', '.join(WorkspaceAPIKey.Scope.values)}.",
        )
    with transaction.atomic():
        api_key, key = WorkspaceAPIKey.objects.create_key(
            workspace=workspace, name=name, created_by=created_by, scopes=chosen
        )
        _audit(workspace, "api_key.created", api_key, scopes=chosen)
    assert isinstance(api_key, WorkspaceAPIKey)  # the library types it as its abstract base
    return api_key, key


def api_key_revoke(*, api_key: WorkspaceAPIKey) -> WorkspaceAPIKey:
    if not api_key.revoked:
        with transaction.atomic():
            api_key.revoked = True
            api_key.save(update_fields=["revoked"])
            _audit(api_key.workspace, "api_key.revoked", api_key)
    return api_key


def _audit(workspace: Workspace, type: str, api_key: Any, **payload: Any) -> None:
    # The prefix names the key; never the key or its hash.
    activity_record(
        workspace=workspace,
        type=type,
        object_type="api_key",
        object_id=api_key.prefix,
        payload={"name": api_key.name, **payload},
    )


def workspace_switch_allowed(*, user: User, workspace: Workspace) -> bool:
    return Membership.objects.filter(user=user, workspace=workspace).exists()


def expired_sessions_clear() -> int:
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
