"""/api/v1/ranking/ routes."""

from django.urls import path

from ranking import api

urlpatterns: list = [
    path("ranking/profile/", api.ProfileApi.as_view(), name="api-ranking-profile"),
    path("ranking/status/", api.ModelStatusApi.as_view(), name="api-ranking-status"),
    path(
        "ranking/email-guesses/",
        api.EmailGuessListApi.as_view(),
        name="api-ranking-email-guesses",
    ),
]
