"""Web UI shell: sign-in, the workspace switcher, the dashboard, API key settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from sdr import services
from sdr.edge import query_uuid
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.members import member_invite, member_remove, member_role_set
from sdr.models import Membership, Workspace, WorkspaceAPIKey
from sdr.ratelimit import Limit, blocked, client_address, reset, take
from sdr.tenancy import SESSION_WORKSPACE_KEY, SIGNED_IN_COOKIE, member_required
from sdr.workspace_settings import (
    SettingsInput,
    SettingsInvalid,
    settings_form,
    workspace_settings_update,
)


class LoginView(auth_views.LoginView):
    """Sign-in, with failures limited per account and per address: past the limit the
    form says when to try again (429), and the password is not even checked."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        buckets = _sign_in_buckets(request)
        waits = [blocked(key, limit).retry_after for key, limit in buckets]
        if any(waits):
            # An unbound form: a bound one would check the password to list its errors.
            context = self.get_context_data(
                form=self.get_form_class()(request),
                locked_out_minutes=max(1, -(-max(waits) // 60)),
            )
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        for key, limit in _sign_in_buckets(self.request):
            take(key, limit)
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        account_key, _ = _sign_in_buckets(self.request)[0]
        reset(account_key)
        response = super().form_valid(form)
        response.set_cookie(
            SIGNED_IN_COOKIE,
            "1",
            max_age=60 * 60 * 24 * 365,
            httponly=True,
            samesite="Lax",
            secure=self.request.is_secure(),
        )
        return response


def _sign_in_buckets(request: HttpRequest) -> list[tuple[str, Limit]]:
    window = settings.SIGN_IN_FAILURE_WINDOW_SECONDS
    per_account = settings.SIGN_IN_FAILURES_PER_ACCOUNT
    per_address = settings.SIGN_IN_FAILURES_PER_ADDRESS
    account = str(request.POST.get("username", "")).strip().lower()[:150]
    return [
        (f"signin:account:{account}", Limit(per_account, per_account / window)),
        (f"signin:address:{client_address(request)}", Limit(per_address, per_address / window)),
    ]


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        response.delete_cookie(SIGNED_IN_COOKIE)
        return response


@member_required
def dashboard(request: MemberRequest) -> HttpResponse:
    from outreach import reporting
    from outreach.charts import weekly_rates_chart
    from outreach.selectors import campaign_choices

    workspace = request.workspace
    funnel = reporting.funnel(
        workspace=workspace,
        period=request.GET.get("period", reporting.DEFAULT_PERIOD),
        campaign_id=query_uuid(request.GET, "campaign"),
    )
    context = {
        "cards": dashboard_cards(workspace),
        "funnel": funnel,
        "rates_chart": weekly_rates_chart(funnel.weeks),
        "periods": [(key, _period_label(days)) for key, days in reporting.PERIODS.items()],
        "campaigns": campaign_choices(workspace=workspace),
        "campaign_id": query_uuid(request.GET, "campaign"),
    }
    return render(request, "sdr/dashboard.html", context)


def _period_label(days: int | None) -> str:
    return "All time" if days is None else f"Last {days} days"


def dashboard_cards(workspace: Workspace) -> list[dict[str, object]]:
    """The funnel, stage by stage; each app contributes its stages."""
    from leads.selectors import funnel_cards as lead_cards
    from outreach.selectors import funnel_cards as outreach_cards

    return [*lead_cards(workspace=workspace), *outreach_cards(workspace=workspace)]


@require_POST
def workspace_switch(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None or not services.workspace_switch_allowed(
        user=request.user, workspace=workspace
    ):
        raise Http404("No workspace of yours has that name.")
    request.session[SESSION_WORKSPACE_KEY] = str(workspace.pk)
    messages.success(request, f"Switched to {workspace.name}.")
    return redirect("dashboard")


# Read by the isolation test (a function attribute, which mypy cannot declare): the slug
# names a workspace the user must belong to.
workspace_switch.tenant_kwargs = {"slug": Workspace}  # type: ignore[attr-defined]


@member_required
def api_keys(request: MemberRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        _require_manager(request)
        try:
            api_key, new_key = services.api_key_create(
                workspace=request.workspace,
                name=request.POST.get("name", ""),
                created_by=request.user,
                scopes=request.POST.getlist("scopes"),
            )
        except AppError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"Created the key {api_key.name!r}. Copy it now: it will not be shown again.",
            )
    keys = WorkspaceAPIKey.for_workspace(request.workspace).select_related("created_by")
    return render(
        request,
        "sdr/api_keys.html",
        {"keys": keys, "new_key": new_key, "scopes": WorkspaceAPIKey.Scope.choices},
    )


@require_POST
@member_required(prefix=WorkspaceAPIKey)
def api_key_revoke(request: MemberRequest, prefix: WorkspaceAPIKey) -> HttpResponse:
    _require_manager(request)
    services.api_key_revoke(api_key=prefix)
    messages.success(request, f"Revoked the key {prefix.name!r}.")
    return redirect("api-keys")


def _require_manager(request: MemberRequest) -> None:
    if not request.membership.can_manage:
        raise PermissionDenied("Only owners and admins manage API keys.")


@member_required
def settings_home(request: MemberRequest) -> HttpResponse:
    """One place for a workspace's settings: each section is its own page."""
    return render(request, "sdr/settings.html")


@member_required
def workspace_settings(request: MemberRequest) -> HttpResponse:
    """The workspace's name, sending defaults and model endpoint; owners and admins save."""
    problems: dict[str, str] = {}
    if request.method == "POST":
        try:
            changed = workspace_settings_update(
                workspace=request.workspace,
                by=request.membership,
                given=SettingsInput.from_post(request.POST),
            )
        except SettingsInvalid as error:
            problems = error.problems
            messages.error(request, "Nothing was saved: " + " ".join(problems.values()))
        else:
            messages.success(request, "Saved." if changed else "Nothing had changed.")
            return redirect("workspace-settings")
    posted = request.POST if problems else None
    return render(
        request,
        "sdr/workspace_settings.html",
        {"problems": problems, **settings_form(request.workspace, posted)},
    )


@member_required
def members(request: MemberRequest) -> HttpResponse:
    """The workspace's people and their roles; owners and admins invite (POST)."""
    if request.method == "POST":
        try:
            membership = member_invite(
                workspace=request.workspace,
                email=request.POST.get("email", ""),
                role=request.POST.get("role", Membership.Role.MEMBER),
                by=request.membership,
            )
        except AppError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Added {membership.user.email}; they were sent an email.")
        return redirect("members")
    people = (
        Membership.for_workspace(request.workspace)
        .select_related("user")
        .order_by("user__email", "user__username")
    )
    return render(request, "sdr/members.html", {"people": people, "roles": Membership.Role.choices})


@require_POST
@member_required(pk=Membership)
def member_role(request: MemberRequest, pk: Membership) -> HttpResponse:
    try:
        member_role_set(membership=pk, role=request.POST.get("role", ""), by=request.membership)
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{_person(pk)} is now {pk.get_role_display().lower()}.")
    return redirect("members")


@require_POST
@member_required(pk=Membership)
def member_remove_view(request: MemberRequest, pk: Membership) -> HttpResponse:
    try:
        member_remove(membership=pk, by=request.membership)
    except AppError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed {_person(pk)} from {request.workspace.name}.")
    return redirect("members")


def _person(membership: Membership) -> str:
    return membership.user.email or membership.user.get_username()


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """The invitation's one-time link: the invitee chooses a password, then signs in."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password is set. Sign in with your email address.")
        return super().form_valid(form)
