"""/api/v1/ routes of the leads app."""

from rest_framework.routers import SimpleRouter

from leads import api

router = SimpleRouter()
router.register("companies", api.CompanyViewSet, basename="company")
router.register("leads", api.LeadViewSet, basename="lead")
router.register("facts", api.FactViewSet, basename="fact")
router.register("signals", api.SignalViewSet, basename="signal")

urlpatterns: list = [*router.urls]
