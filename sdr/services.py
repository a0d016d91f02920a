"""Writes on workspaces, members and API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from sdr.errors import AppError, ErrorCode
from sdr.models import Membership, Workspace, WorkspaceAPIKey


def workspace_create(*, name: str, slug: str | None = None, owner: AbstractBaseUser) -> Workspace:
    slug = slug or slugify(name)
    if not slug:
        raise AppError(ErrorCode.INVALID, "A workspace needs a name made of letters or digits.")
    if Workspace.objects.filter(slug=slug).exists():
        raise AppError(
            ErrorCode.CONFLICT, f"The workspace slug {slug!r} is taken.", status_code=409
        )
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name, slug=slug)
        Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


def api_key_create(
    *, workspace: Workspace, name: str, created_by: AbstractBaseUser | None = None
) -> tuple[WorkspaceAPIKey, str]:
    """Create a key and return it with its clear text, which exists only in this return value."""
    name = name.strip()
    if not name:
        raise AppError(ErrorCode.INVALID, "An API key needs a name, e.g. the CRM it is for.")
    if len(name) > 50:
        raise AppError(ErrorCode.INVALID, "An API key name is at most 50 characters.")
    return WorkspaceAPIKey.objects.create_key(workspace=workspace, name=name, created_by=created_by)


def api_key_revoke(*, api_key: WorkspaceAPIKey) -> WorkspaceAPIKey:
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key


def workspace_switch_allowed(*, user: AbstractBaseUser, workspace: Workspace) -> bool:
    return Membership.objects.filter(user=user, workspace=workspace).exists()


def expired_sessions_clear() -> int:
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
