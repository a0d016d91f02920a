"""Web UI routes of the leads app."""

from django.urls import path

from leads import views

urlpatterns: list = [
    path("", views.lead_list, name="lead-list"),
    path("new/", views.lead_add, name="lead-add"),
    path("companies/", views.company_list, name="company-list"),
    path("coverage/", views.coverage, name="coverage"),
    path("<uuid:pk>/", views.lead_detail, name="lead-detail"),
    path("companies/<uuid:pk>/", views.company_detail, name="company-detail"),
    path("companies/<uuid:pk>/enrich/", views.company_enrich, name="company-enrich"),
    path("companies/<uuid:pk>/status/", views.company_enrich_status, name="company-status"),
]
