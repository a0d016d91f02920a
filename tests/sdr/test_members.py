"""Members and roles in Settings (issue 14): invite by email (a new account gets a
one-time link to set its password), change roles, remove; owners and admins only, only
owners touch owners, a workspace always keeps an owner, every change logged."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from sdr.models import Activity, Membership
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _link(mail) -> str:
    return re.search(r"https://sdr\.example\.com(/\S+)", mail.body).group(1)


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"


def _membership(workspace, user) -> Membership | None:
    return Membership.objects.filter(workspace=workspace, user=user).first()


def test_an_invited_person_sets_a_password_and_signs_in(
    web, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # mailed once the invite commits
        response = web.post(
            "/settings/members/", {"email": "Kim@Acme.Example", "role": "admin"}, follow=True
        )
    assert "Added Kim@acme.example" in _said(response)
    kim = User.objects.get(email="Kim@acme.example")
    assert not kim.has_usable_password()
    assert _membership(workspace, kim).role == "admin"
    assert Activity.objects.for_workspace(workspace).filter(type="member.invited").count() == 1

    (mail,) = mailoutbox
    assert mail.to == ["Kim@acme.example"] and "Acme" in mail.subject
    link = _link(mail)
    browser = Client()
    form = browser.get(link, follow=True)
    assert "Set your password" in form.content.decode()
    done = browser.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link,
        {"new_password1": "a-long-pass-phrase-9", "new_password2": "a-long-pass-phrase-9"},
        follow=True,
    )
    assert "Your password is set" in _said(done)
    assert browser.login(username="Kim@acme.example", password="a-long-pass-phrase-9")
    # The link dies once used.
    again = Client().get(link, follow=True).content.decode()
    assert "has been used or has expired" in again


def test_inviting_someone_with_an_account_adds_them_without_a_new_one(
    web, workspace, other_workspace, mailoutbox, django_capture_on_commit_callbacks
):
    lee = UserFactory(email="lee@beta.example")
    MembershipFactory(workspace=other_workspace, user=lee)
    with django_capture_on_commit_callbacks(execute=True):
        web.post("/settings/members/", {"email": "lee@beta.example", "role": "member"})
    assert _membership(workspace, lee).role == "member"
    assert User.objects.filter(email__iexact="lee@beta.example").count() == 1
    assert "Sign in here" in mailoutbox[0].body and "set-password" not in mailoutbox[0].body

    response = web.post(
        "/settings/members/", {"email": "lee@beta.example", "role": "member"}, follow=True
    )
    assert "already a member" in _said(response)


@pytest.mark.parametrize(
    ("email", "role", "said"),
    [
        ("not-an-address", "member", "is not an email address"),
        ("x@acme.example\r\nBcc: all@acme.example", "member", "is not an email address"),
        ("ok@acme.example", "emperor", "Choose owner, admin or member"),
    ],
)
def test_a_bad_invitation_says_why_and_adds_no_one(
    web, workspace, mailoutbox, django_capture_on_commit_callbacks, email, role, said
):
    before = Membership.objects.filter(workspace=workspace).count()
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post("/settings/members/", {"email": email, "role": role}, follow=True)
    assert said in _said(response)
    assert Membership.objects.filter(workspace=workspace).count() == before
    assert mailoutbox == []


def test_members_cannot_manage_and_admins_cannot_touch_owners(client, workspace):
    owner = MembershipFactory(workspace=workspace, role="owner")
    admin = MembershipFactory(workspace=workspace, role="admin")
    member = MembershipFactory(workspace=workspace, role="member")

    client.force_login(member.user)
    page = client.get("/settings/members/").content.decode()
    assert 'data-testid="invite"' not in page
    response = client.post(f"/settings/members/{admin.pk}/remove/", follow=True)
    assert "Only owners and admins manage members" in _said(response)
    assert _membership(workspace, admin.user)

    client.force_login(admin.user)
    response = client.post(f"/settings/members/{owner.pk}/role/", {"role": "member"}, follow=True)
    assert "Only an owner can change an owner" in _said(response)
    response = client.post(f"/settings/members/{member.pk}/role/", {"role": "owner"}, follow=True)
    assert "Only an owner can make someone an owner" in _said(response)
    response = client.post(f"/settings/members/{member.pk}/role/", {"role": "admin"}, follow=True)
    assert _membership(workspace, member.user).role == "admin"
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_a_workspace_keeps_an_owner(client, workspace):
    only = MembershipFactory(workspace=workspace, role="owner")
    second = MembershipFactory(workspace=workspace, role="owner")
    client.force_login(second.user)
    client.post(f"/settings/members/{only.pk}/role/", {"role": "admin"})
    assert _membership(workspace, only.user).role == "admin"

    client.force_login(only.user)  # an admin now: may not touch the last owner
    response = client.post(f"/settings/members/{second.pk}/remove/", follow=True)
    assert "Only an owner can change an owner" in _said(response)

    from sdr.members import member_remove

    with pytest.raises(Exception, match="A workspace needs an owner"):
        member_remove(membership=second, by=second)
    assert _membership(workspace, second.user).role == "owner"


def test_a_removed_member_loses_the_workspace_at_once(client, workspace):
    owner = MembershipFactory(workspace=workspace, role="owner")
    gone = MembershipFactory(workspace=workspace, role="member")
    theirs = Client()
    theirs.force_login(gone.user)
    assert theirs.get("/leads/").status_code == 200

    client.force_login(owner.user)
    response = client.post(f"/settings/members/{gone.pk}/remove/", follow=True)
    assert "Removed" in _said(response)
    assert theirs.get("/leads/").status_code == 404
    logged = Activity.objects.for_workspace(workspace).get(type="member.removed")
    assert logged.payload["by"] == owner.user.get_username()


def test_settings_lists_every_section(web):
    page = web.get("/settings/").content.decode()
    for section in [
        "/settings/members/",
        "/mailboxes/",
        "/ranking/profile/",
        "/leads/suppressions/",
        "/settings/api-keys/",
        "/billing/",
    ]:
        assert f'href="{section}"' in page, section
