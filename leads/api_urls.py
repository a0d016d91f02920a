"""/api/v1/ routes of the leads app."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from leads import api, import_api

router = SimpleRouter()
router.register("companies", api.CompanyViewSet, basename="api-company")
router.register("leads", api.LeadViewSet, basename="api-lead")
router.register("facts", api.FactViewSet, basename="api-fact")
router.register("signals", api.SignalViewSet, basename="api-signal")
router.register("imports", import_api.ImportViewSet, basename="api-import")
router.register("suppressions", api.SuppressionViewSet, basename="api-suppression")

urlpatterns: list = [
    path("leads/bulk-upsert/", import_api.BulkUpsertApi.as_view(), name="lead-bulk-upsert"),
    *router.urls,
]
