"""Settings → Members in a real browser: invite someone, change their role from the list
(the select submits itself), remove them after confirming."""

from __future__ import annotations

import pytest

from sdr.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_invites_promotes_and_removes_a_member(signed_in_page, workspace):
    page = signed_in_page
    page.goto("/")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="Members and roles").click()
    page.get_by_label("Email").fill("kim@acme.example")
    page.get_by_role("button", name="Invite").click()
    page.get_by_text("Added kim@acme.example").wait_for()
    assert (
        Membership.objects.get(workspace=workspace, user__email="kim@acme.example").role == "member"
    )

    page.get_by_label("Role of kim@acme.example").select_option("admin")
    page.get_by_text("kim@acme.example is now admin").wait_for()
    assert (
        Membership.objects.get(workspace=workspace, user__email="kim@acme.example").role == "admin"
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove").click()
    page.get_by_text("Removed kim@acme.example").wait_for()
    assert not Membership.objects.filter(
        workspace=workspace, user__email="kim@acme.example"
    ).exists()
