from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from outreach import public_views
from outreach.replies import webhook as inbound_webhook
from sdr import api, health, views
from sdr.webhooks_api import WebhookEndpointViewSet

webhook_router = SimpleRouter()
webhook_router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")

handler404 = "sdr.errors.not_found"
handler500 = "sdr.errors.server_error"

api_v1: list[URLPattern | URLResolver] = [
    path("workspace/", api.CurrentWorkspaceApi.as_view(), name="api-workspace"),
    path("activities/", api.ActivityFeedApi.as_view(), name="api-activities"),
    path("usage/", api.UsageApi.as_view(), name="api-usage"),
    path("", include("leads.api_urls")),
    path("", include("outreach.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("ranking.api_urls")),
    path("", include(webhook_router.urls)),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("workspaces/<slug:slug>/switch/", views.workspace_switch, name="workspace-switch"),
    path("settings/", views.settings_home, name="settings"),
    path("settings/workspace/", views.workspace_settings, name="workspace-settings"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/<int:pk>/role/", views.member_role, name="member-role"),
    path("settings/members/<int:pk>/remove/", views.member_remove_view, name="member-remove"),
    path("set-password/<uidb64>/<token>/", views.PasswordSetView.as_view(), name="password-set"),
    path("settings/api-keys/", views.api_keys, name="api-keys"),
    path("settings/api-keys/<str:prefix>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("leads/", include("leads.urls")),
    path("", include("outreach.urls")),
    path("billing/", include("billing.urls")),
    path("ranking/", include("ranking.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("u/<str:token>/", public_views.unsubscribe_page, name="unsubscribe"),
    path(
        "inbound/email/<slug:slug>/",
        inbound_webhook.inbound_email_webhook,
        name="inbound-email-webhook",
    ),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its set-up script from a URL of its own: no inline script, as
    # the Content-Security-Policy asks.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
