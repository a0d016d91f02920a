"""/api/v1/ routes of the billing app."""

from rest_framework.routers import SimpleRouter

from billing import api

router = SimpleRouter()
router.register("billing/events", api.BillableEventViewSet, basename="api-billing-event")

urlpatterns: list = [*router.urls]
