"""Every model has an admin, and each admin page renders for staff."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import TENANT_FACTORIES, WorkspaceFactory

OWN_APPS = {"sdr", "leads", "outreach", "billing"}


def own_models():
    return [m for m in apps.get_models() if m._meta.app_label in OWN_APPS]


def test_every_model_of_ours_is_in_the_admin():
    missing = [m.__name__ for m in own_models() if m not in admin.site._registry]
    assert not missing, f"Register these in the app's admin.py: {missing}"


@pytest.mark.django_db
def test_every_admin_list_and_change_page_renders(admin_client):
    workspace = WorkspaceFactory()
    rows = {model: factory(workspace=workspace) for model, factory in TENANT_FACTORIES.items()}
    for model in own_models():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        if model in rows:
            change = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[rows[model].pk]
            )
            assert admin_client.get(change).status_code == 200, change
