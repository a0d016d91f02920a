"""Request types that say what tenancy has put on a request, for the type checker.

Django's `HttpRequest` and DRF's `Request` know nothing of workspaces: the workspace is
attached at run time, by `CurrentWorkspaceMiddleware` on the web and by `HasWorkspace` on
the API. These subclasses only describe that; nothing instantiates them, the objects are
still Django's and DRF's. A view annotated with one may read `request.workspace` and mypy
checks what it does with it, instead of failing on an unknown attribute.

- `WorkspaceRequest`: any web request once the middleware has run. `workspace` and
  `membership` are None for anonymous users and users without a membership.
- `MemberRequest`: a web request that `member_required` let through: the user is signed
  in and a member, so `workspace` and `membership` are set. Annotate views behind it with
  this one.
- `ApiRequest`: a DRF request that `HasWorkspace` (the default permission) let through,
  with the key's or the user's workspace.

The narrower types are promises made by those guards: annotate a view with them only if
the guard runs before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from sdr.models import Membership, Workspace

__all__ = ["ApiRequest", "MemberRequest", "WorkspaceRequest"]


class WorkspaceRequest(HttpRequest):
    workspace: Workspace | None
    membership: Membership | None


class MemberRequest(WorkspaceRequest):
    workspace: Workspace
    membership: Membership
    user: User


class ApiRequest(Request):
    workspace: Workspace
