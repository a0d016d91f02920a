from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from outreach import public_views
from sdr import api, health, views

handler404 = "sdr.errors.not_found"
handler500 = "sdr.errors.server_error"

api_v1: list[URLPattern | URLResolver] = [
    path("workspace/", api.CurrentWorkspaceApi.as_view(), name="api-workspace"),
    path("activities/", api.ActivityFeedApi.as_view(), name="api-activities"),
    path("", include("leads.api_urls")),
    path("", include("outreach.api_urls")),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("workspaces/<slug:slug>/switch/", views.workspace_switch, name="workspace-switch"),
    path("settings/api-keys/", views.api_keys, name="api-keys"),
    path("settings/api-keys/<str:pk>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("leads/", include("leads.urls")),
    path("", include("outreach.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("u/<str:token>/", public_views.unsubscribe_page, name="unsubscribe"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
