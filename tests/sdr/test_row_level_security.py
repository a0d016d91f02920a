"""Row-level security (sdr/rls.py): the database keeps workspaces apart even when a query
forgets to, and the product acts as a role that cannot step around it."""

from __future__ import annotations

import io

import pytest
from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from leads.models import Company, Lead
from sdr import rls
from sdr.models import Activity
from sdr.tenancy import CurrentWorkspaceMiddleware, tenant_models
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


def _sql(query: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def _lead_workspaces() -> set[str]:
    return {str(row[0]) for row in _sql("SELECT DISTINCT workspace_id FROM leads_lead")}


def test_every_tenant_table_has_row_level_security_and_its_policy():
    tables = {model._meta.db_table for model in tenant_models()}
    enabled = {
        name
        for (name,) in _sql(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relname = ANY(%s)",
            (list(tables),),
        )
    }
    with_policy = {
        name
        for (name,) in _sql(
            "SELECT tablename FROM pg_policies WHERE policyname = %s", (rls.POLICY_NAME,)
        )
    }
    assert len(tables) > 25
    assert tables - enabled == set()
    assert tables - with_policy == set()


def test_the_app_role_owns_no_table_and_does_not_bypass_row_level_security():
    role = settings.DATABASE_ROLE
    ((bypass, superuser),) = _sql(
        "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = %s", (role,)
    )
    assert (bypass, superuser) == (False, False)
    owned = _sql("SELECT tablename FROM pg_tables WHERE tableowner = %s", (role,))
    assert owned == []
    with rls.no_workspace():
        assert _sql("SELECT current_user") == [(role,)]


def test_a_raw_query_without_a_workspace_sees_nothing(workspace, neighbour):
    LeadFactory(workspace=workspace)
    assert len(_lead_workspaces()) >= 2  # the test body: across workspaces, like the admin

    with rls.no_workspace():
        assert _sql("SELECT count(*) FROM leads_lead") == [(0,)]
        assert _sql("SELECT count(*) FROM sdr_activity") == [(0,)]
        # The ORM's cross-workspace manager is held by the same wall.
        assert Lead.unscoped_objects.count() == 0


def test_inside_a_workspace_a_query_that_forgot_to_scope_sees_only_that_workspace(
    workspace, neighbour
):
    own = LeadFactory(workspace=workspace)
    theirs = neighbour.rows[Lead]

    with rls.workspace_scope(workspace):
        assert _lead_workspaces() == {str(workspace.pk)}
        assert set(Lead.unscoped_objects.values_list("pk", flat=True)) == {own.pk}
        assert not Lead.unscoped_objects.filter(pk=theirs.pk).exists()


def test_a_workspace_cannot_write_into_another(workspace, neighbour):
    company = CompanyFactory(workspace=workspace)
    theirs = neighbour.rows[Company]

    with rls.workspace_scope(workspace):
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Company.unscoped_objects.create(
                workspace=neighbour.workspace, name="Smuggled", domain="smuggled.example"
            )
        # Moving a row out of the workspace is refused too.
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Company.unscoped_objects.filter(pk=company.pk).update(workspace=neighbour.workspace)
        # Another workspace's rows cannot be changed or deleted: they are not there.
        assert Company.unscoped_objects.filter(pk=theirs.pk).delete()[0] == 0
    assert Company.unscoped_objects.filter(pk=theirs.pk).exists()


def test_scopes_nest_and_restore_even_after_a_failed_transaction(workspace, neighbour):
    LeadFactory(workspace=workspace)
    with rls.workspace_scope(workspace):
        with rls.cross_workspace():
            assert len(_lead_workspaces()) >= 2
        assert _lead_workspaces() == {str(workspace.pk)}
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(),
            rls.workspace_scope(neighbour.workspace),
        ):
            _sql("SELECT 1/0")
        assert _lead_workspaces() == {str(workspace.pk)}
    assert len(_lead_workspaces()) >= 2


def test_workspace_of_acts_for_the_workspace_that_owns_the_row(workspace, neighbour):
    lead = LeadFactory(workspace=workspace)
    with rls.workspace_of(Lead, lead.pk):
        assert _lead_workspaces() == {str(workspace.pk)}
    with rls.workspace_of(Lead, "00000000-0000-0000-0000-000000000000"):
        assert _lead_workspaces() == set()  # no such row: no workspace at all


def test_a_request_acts_for_the_member_s_workspace_and_ends_with_it(member, workspace):
    seen = {}

    def view(request):
        seen["user"], seen["workspace"] = _sql(
            "SELECT current_user, current_setting(%s, true)", (rls.WORKSPACE_SETTING,)
        )[0]
        return HttpResponse()

    request = RequestFactory().get("/leads/")
    request.user = member
    request.session = {}
    CurrentWorkspaceMiddleware(view)(request)

    assert seen == {"user": settings.DATABASE_ROLE, "workspace": str(workspace.pk)}
    # After the request, the connection is back to the test's own scope.
    assert _sql("SELECT current_setting(%s, true)", (rls.WORKSPACE_SETTING,)) == [("",)]


@shared_task(name="tests.rls_probe")
def _probe_task() -> tuple[str, str]:
    return tuple(
        _sql("SELECT current_user, current_setting(%s, true)", (rls.WORKSPACE_SETTING,))[0]
    )


def test_a_task_starts_with_no_workspace_whoever_queued_it(workspace):
    with rls.workspace_scope(workspace):
        # Eager, as in the demo and the tests: the task runs inside its caller, and still
        # acts for nobody until it says whom (the real tasks do, from the ids they get).
        user, seen = _probe_task.delay().get()
        assert (user, seen) == (settings.DATABASE_ROLE, "")
        assert _lead_workspaces() <= {str(workspace.pk)}
        assert _sql("SELECT current_setting(%s, true)", (rls.WORKSPACE_SETTING,)) == [
            (str(workspace.pk),)
        ]


def test_a_command_for_one_workspace_acts_for_that_workspace_only(workspace, neighbour):
    out = io.StringIO()
    with rls.no_workspace():  # as a command's own process starts
        call_command(
            "create_api_key", workspace=workspace.slug, name="sync", scopes="read", stdout=out
        )
    # Written under the workspace's policy: had it acted for none, the insert of its
    # audit entry would have been refused.
    assert Activity.unscoped_objects.filter(workspace=workspace, type="api_key.created").exists()
