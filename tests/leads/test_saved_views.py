"""Saved views of the leads list (issue 14): a name for filters and a sort, shared with
the workspace, checked as the list checks them, deleted by whoever saved it or a manager."""

from __future__ import annotations

import pytest
from django.test import Client

from leads.models import SavedView
from sdr.models import Membership
from tests.factories import CompanyFactory, LeadFactory, MembershipFactory, SavedViewFactory

pytestmark = pytest.mark.django_db


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _views(workspace) -> list[tuple[str, str]]:
    return list(SavedView.objects.for_workspace(workspace).values_list("name", "query"))


def test_a_view_keeps_the_filters_and_sort_and_shows_those_leads(web, workspace):
    small = CompanyFactory(workspace=workspace, employee_count=20)
    LeadFactory(workspace=workspace, company=small, email="", last_name="Small")
    LeadFactory(workspace=workspace, email="x@big.example", last_name="Other")
    page = web.get("/leads/", {"has_email": "no", "size": "11-50"}).content.decode()
    assert 'data-testid="save-view"' in page

    response = web.post(
        "/leads/views/",
        {
            "name": "  Small,  no email ",
            "has_email": "no",
            "size": "11-50",
            "sort": "-score",
            "cursor": "abc",
            "q": "",
        },
        follow=True,
    )

    assert "Saved the view Small, no email." in _said(response)
    assert _views(workspace) == [("Small, no email", "has_email=no&size=11-50&sort=-score")]
    # The redirect is the view itself: its leads and, above the filters, its link.
    page = response.content.decode()
    assert "Dana Small" in page and "Dana Other" not in page
    assert 'href="/leads/?has_email=no&amp;size=11-50&amp;sort=-score">Small, no email</a>' in page


def test_everyone_in_the_workspace_sees_a_view_and_other_workspaces_do_not(
    web, workspace, other_workspace, user_factory
):
    SavedViewFactory(workspace=workspace, name="Ours")
    SavedViewFactory(workspace=other_workspace, name="Theirs")
    colleague = user_factory()
    MembershipFactory(workspace=workspace, user=colleague, role=Membership.Role.MEMBER)
    client = Client()
    client.force_login(colleague)

    page = client.get("/leads/").content.decode()

    assert ">Ours</a>" in page and "Theirs" not in page


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"name": "", "size": "11-50"}, "a name of 1 to 80"),
        ({"name": "x" * 81, "size": "11-50"}, "a name of 1 to 80"),
        ({"name": "Nothing"}, "Choose some filters or a sort first"),
        ({"name": "Huge", "size": "huge"}, "cannot be saved"),
        ({"name": "Bad id", "in_campaign": "not-an-id"}, "cannot be saved"),
    ],
)
def test_a_view_that_cannot_be_kept_says_why_and_keeps_nothing(web, workspace, form, words):
    response = web.post("/leads/views/", form, follow=True)
    assert words in _said(response)
    assert _views(workspace) == []


def test_a_name_is_used_once_per_workspace(web, workspace):
    SavedViewFactory(workspace=workspace, name="Retail")
    response = web.post("/leads/views/", {"name": "Retail", "industry": "retail"}, follow=True)
    assert "There is already a view called Retail." in _said(response)
    assert len(_views(workspace)) == 1


def test_the_person_who_saved_a_view_or_a_manager_deletes_it(workspace, member, user_factory):
    colleague = user_factory()
    MembershipFactory(workspace=workspace, user=colleague, role=Membership.Role.MEMBER)
    mine = SavedViewFactory(workspace=workspace, name="Mine", created_by=colleague)
    theirs = SavedViewFactory(workspace=workspace, name="The owner's", created_by=member)
    client = Client()
    client.force_login(colleague)

    refused = client.post(f"/leads/views/{theirs.pk}/delete/", follow=True)
    client.post(f"/leads/views/{mine.pk}/delete/")

    assert "Only the person who saved a view" in _said(refused)
    assert [name for name, _ in _views(workspace)] == ["The owner's"]
    owner = Client()
    owner.force_login(member)  # the fixture's member is the owner
    owner.post(f"/leads/views/{theirs.pk}/delete/")
    assert _views(workspace) == []
