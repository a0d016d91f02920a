"""The tenant-scoped base classes make reading across workspaces something code must ask for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from leads.models import Company, Lead
from sdr.api_base import WorkspaceSerializer
from sdr.tenancy import UnscopedQueryError
from tests.factories import CompanyFactory


def test_objects_refuses_a_query_without_a_workspace(db):
    with pytest.raises(UnscopedQueryError, match="for_workspace"):
        list(Company.objects.all())
    with pytest.raises(UnscopedQueryError):
        Company.objects.filter(domain="x.example")
    with pytest.raises(UnscopedQueryError):
        Company.objects.get(domain="x.example")


def test_for_workspace_sees_only_that_workspaces_rows(workspace, other_workspace):
    mine = CompanyFactory(workspace=workspace)
    CompanyFactory(workspace=other_workspace)
    assert list(Company.objects.for_workspace(workspace)) == [mine]


def test_for_workspace_refuses_none(db):
    with pytest.raises(UnscopedQueryError):
        Company.objects.for_workspace(None)


def test_a_payload_cannot_point_at_another_workspaces_row(workspace, other_workspace):
    """Related fields of WorkspaceSerializer accept only rows of the caller's workspace."""

    class LeadInput(WorkspaceSerializer):
        class Meta:
            model = Lead
            fields = ["email", "company", "workspace"]

    theirs = CompanyFactory(workspace=other_workspace)
    context = {"request": SimpleNamespace(workspace=workspace)}
    serializer = LeadInput(
        data={"email": "a@b.example", "company": str(theirs.pk)}, context=context
    )

    assert not serializer.is_valid()
    assert "company" in serializer.errors
    assert "workspace" not in LeadInput(context=context).fields
