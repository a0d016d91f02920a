"""Tenancy: the base classes that make reading across workspaces something code must ask for.

- `TenantModel` rows belong to one workspace. `Model.objects` refuses to build a query
  until it is given a workspace (`Model.objects.for_workspace(ws)`); crossing workspaces
  is spelled `Model.unscoped_objects` and is meant for the admin and for tasks that load a
  row by id and then act within its workspace.
- `CurrentWorkspaceMiddleware` picks the web user's current workspace from their
  memberships; `member_required` guards web views and resolves URL ids inside it.
- The DRF side (`WorkspaceViewSet`, `WorkspaceSerializer`) lives in `sdr.api_base`.

A wrong workspace answers 404, never 403, so ids of other tenants cannot be probed.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, overload

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse

if TYPE_CHECKING:
    from sdr.http import WorkspaceRequest
    from sdr.models import Membership, Workspace

SESSION_WORKSPACE_KEY = "workspace_id"
# Set at sign-in and cleared at sign-out, so a request without a session can tell an
# expired session ("please sign in again") from a first visit.
SIGNED_IN_COOKIE = "sdr_signed_in"


class UnscopedQueryError(RuntimeError):
    """Raised when tenant rows are queried without saying which workspace."""


class TenantQuerySet(models.QuerySet):
    def for_workspace(self, workspace: Workspace) -> TenantQuerySet:
        if workspace is None:
            raise UnscopedQueryError("for_workspace() needs a workspace, got None.")
        return self.filter(workspace=workspace)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    """The strict manager: every query starts from `for_workspace`."""

    def get_queryset(self) -> TenantQuerySet:
        raise UnscopedQueryError(
            f"{self.model.__name__}.objects needs a workspace: use "
            f"{self.model.__name__}.objects.for_workspace(workspace), or "
            f"{self.model.__name__}.unscoped_objects where crossing workspaces is intended."
        )

    def for_workspace(self, workspace: Workspace) -> TenantQuerySet:
        return super().get_queryset().for_workspace(workspace)


class TenantModel(models.Model):
    """Base for every row that belongs to a workspace.

    UUID keys keep ids unguessable across tenants and let the isolation test look for
    another tenant's ids in any response body.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("sdr.Workspace", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Declared first so it is the default manager: the admin, related managers and
    # deletion need it, and each of those is already bounded by a parent row or staff access.
    unscoped_objects = models.Manager.from_queryset(TenantQuerySet)()
    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_models() -> list[type[TenantModel]]:
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, TenantModel)]


class CurrentWorkspaceMiddleware:
    """Sets `request.workspace` and `request.membership` for signed-in web users.

    The workspace is the one chosen in the switcher (kept in the session) if the user is
    still a member of it, else their first membership.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: WorkspaceRequest) -> HttpResponse:
        from sdr.activity import SYSTEM, Actor, acting_as

        request.workspace = None
        request.membership = None
        actor = SYSTEM
        if request.user.is_authenticated:
            actor = Actor.user(request.user)
            membership = current_membership(request)
            if membership is not None:
                request.membership = membership
                request.workspace = membership.workspace
        # The actor of every activity this request writes, and the workspace the database
        # acts for (API keys override both once DRF has authenticated the request; see
        # sdr.auth.HasWorkspace).
        with acting_as(actor), _database_scope(request):
            return self.get_response(request)


def _database_scope(request: WorkspaceRequest) -> AbstractContextManager[Any]:
    from sdr import rls

    # The admin reads across workspaces, and only staff get past its login.
    if request.user.is_staff and request.path.startswith(reverse("admin:index")):
        return rls.cross_workspace()
    return rls.workspace_scope(request.workspace)


def current_membership(request: HttpRequest) -> Membership | None:
    from sdr.models import Membership

    if not request.user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=request.user).select_related("workspace")
    chosen = request.session.get(SESSION_WORKSPACE_KEY)
    if chosen:
        membership = memberships.filter(workspace_id=chosen).first()
        if membership is not None:
            return membership
    return memberships.order_by("created_at").first()


def workspace_context(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    from sdr.models import Membership

    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": Membership.objects.filter(user=request.user).select_related(
            "workspace"
        ),
    }


# HttpResponseBase: a view may stream (a CSV download is a StreamingHttpResponse).
View = Callable[..., HttpResponseBase]


@overload
def member_required(view: View, /) -> View: ...
@overload
def member_required(**tenant_kwargs: type[models.Model]) -> Callable[[View], View]: ...
def member_required(
    view: View | None = None, /, **tenant_kwargs: type[models.Model]
) -> View | Callable[[View], View]:
    """Guard a web view: signed in, member of a workspace, URL ids resolved inside it.

    `@member_required(pk=Lead)` replaces the `pk` URL argument with the Lead of the
    current workspace, or answers 404. The mapping is kept on the view as
    `tenant_kwargs`, which the isolation test reads to walk every route. Views behind it
    take a `sdr.http.MemberRequest`.
    """

    def decorate(func: View) -> View:
        @functools.wraps(func)
        def wrapper(request: WorkspaceRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                if request.COOKIES.get(SIGNED_IN_COOKIE):
                    messages.info(request, "Your session has expired. Please sign in again.")
                return redirect_to_login(request.get_full_path())
            if request.workspace is None:
                raise Http404("You are not a member of any workspace.")
            for name, model in tenant_kwargs.items():
                kwargs[name] = _get_in_workspace(model, request.workspace, kwargs[name])
            return func(request, *args, **kwargs)

        wrapper.tenant_kwargs = tenant_kwargs  # type: ignore[attr-defined]  # read by the isolation test
        return wrapper

    return decorate(view) if view is not None else decorate


def _get_in_workspace(model: type[models.Model], workspace: Workspace, value: str) -> Any:
    if issubclass(model, TenantModel):
        queryset = model.objects.for_workspace(workspace)
    else:
        queryset = model.for_workspace(workspace)  # type: ignore[attr-defined]
    # A model whose key must not be in URLs names another unique field (API keys: the
    # prefix, since the library's key embeds the hash).
    lookup = getattr(model, "url_lookup", "pk")
    try:
        return queryset.get(**{lookup: value})
    except (ObjectDoesNotExist, ValidationError, ValueError) as error:
        # A malformed id is as unknown as another workspace's id: both are 404.
        raise Http404(f"No {model._meta.verbose_name} with that id in this workspace.") from error
