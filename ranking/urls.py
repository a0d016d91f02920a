"""Web UI routes of the ranking app."""

from django.urls import path

from ranking import views

urlpatterns: list = [
    path("profile/", views.profile_edit, name="ranking-profile"),
]
