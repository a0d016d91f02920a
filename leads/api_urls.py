"""/api/v1/ routes of the leads app."""

from rest_framework.routers import SimpleRouter

router = SimpleRouter()
urlpatterns: list = [*router.urls]
