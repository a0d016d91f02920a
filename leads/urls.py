"""Web UI routes of the leads app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
