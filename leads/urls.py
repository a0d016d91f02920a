"""Web UI routes of the leads app."""

from django.urls import path

from leads import import_views, views

urlpatterns: list = [
    path("", views.lead_list, name="lead-list"),
    path("new/", views.lead_add, name="lead-add"),
    path("bulk/", views.lead_bulk, name="lead-bulk"),
    path("export.csv", views.lead_export, name="lead-export"),
    path("views/", views.saved_view_save, name="saved-view-save"),
    path("views/<uuid:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("companies/", views.company_list, name="company-list"),
    path("companies/bulk/", views.company_bulk, name="company-bulk"),
    path("coverage/", views.coverage, name="coverage"),
    path("imports/", import_views.import_list, name="import-list"),
    path("imports/<uuid:pk>/", import_views.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/start/", import_views.import_start, name="import-start"),
    path("imports/<uuid:pk>/progress/", import_views.import_progress, name="import-progress"),
    path("imports/<uuid:pk>/delete/", views.import_delete, name="import-delete"),
    path("imports/<uuid:pk>/rejected.csv", import_views.import_errors, name="import-errors"),
    path("imports/<uuid:pk>/cut.csv", import_views.import_warnings, name="import-warnings"),
    path("suppressions/", views.suppression_list, name="suppression-list"),
    path("suppressions/<uuid:pk>/lift/", views.suppression_lift, name="suppression-lift"),
    path("<uuid:pk>/", views.lead_detail, name="lead-detail"),
    path("<uuid:pk>/edit/", views.lead_edit, name="lead-edit"),
    path("<uuid:pk>/erase/", views.lead_erase_view, name="lead-erase"),
    path("companies/<uuid:pk>/", views.company_detail, name="company-detail"),
    path("companies/<uuid:pk>/enrich/", views.company_enrich, name="company-enrich"),
    path("companies/<uuid:pk>/status/", views.company_enrich_status, name="company-status"),
]
