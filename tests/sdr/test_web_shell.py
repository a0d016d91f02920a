"""The web UI shell: sign-in, sign-out, expired sessions, the switcher, API key settings."""

from __future__ import annotations

from sdr.models import WorkspaceAPIKey
from sdr.tenancy import SIGNED_IN_COOKIE
from tests.factories import MembershipFactory, WorkspaceFactory


def test_the_dashboard_asks_anonymous_visitors_to_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_signing_in_lands_on_the_dashboard(client, member):
    response = client.post(
        "/login/", {"username": member.username, "password": "pw-for-tests"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Dashboard" in response.content
    assert SIGNED_IN_COOKIE in response.client.cookies


def test_a_wrong_password_says_so(client, member):
    response = client.post("/login/", {"username": member.username, "password": "nope"})
    assert response.status_code == 200
    assert b"do not match" in response.content


def test_an_expired_session_says_to_sign_in_again(client, member):
    client.post("/login/", {"username": member.username, "password": "pw-for-tests"})
    client.session.flush()  # the server forgets the session, as expiry does
    client.cookies.pop("sessionid", None)
    response = client.get("/", follow=True)
    assert b"Your session has expired" in response.content


def test_signing_out_needs_post_and_clears_the_session(web):
    response = web.post("/logout/")
    assert response.status_code == 302
    assert web.get("/").status_code == 302


def test_the_switcher_moves_between_my_workspaces(web, member, workspace):
    second = WorkspaceFactory(name="Second", slug="second")
    MembershipFactory(workspace=second, user=member)

    web.post("/workspaces/second/switch/")
    assert web.get("/").context["current_workspace"] == second
    web.post(f"/workspaces/{workspace.slug}/switch/")
    assert web.get("/").context["current_workspace"] == workspace


def test_the_switcher_refuses_a_workspace_i_do_not_belong_to(web, other_workspace):
    assert web.post(f"/workspaces/{other_workspace.slug}/switch/").status_code == 404


def test_a_new_api_key_is_shown_once(web):
    response = web.post("/settings/api-keys/", {"name": "HubSpot", "scopes": ["read", "write"]})
    key = response.context["new_key"]
    assert key and key.encode() in response.content
    again = web.get("/settings/api-keys/")
    assert key.encode() not in again.content
    assert b"HubSpot" in again.content


def test_a_plain_member_cannot_create_or_revoke_keys(client, workspace):
    plain = MembershipFactory(workspace=workspace, role="member").user
    client.force_login(plain)
    assert client.post("/settings/api-keys/", {"name": "x"}).status_code == 403
    api_key, _ = WorkspaceAPIKey.objects.create_key(workspace=workspace, name="k")
    assert client.post(f"/settings/api-keys/{api_key.prefix}/revoke/").status_code == 403
    assert not WorkspaceAPIKey.objects.get().revoked


def test_revoking_a_key_from_settings(web, workspace):
    api_key, _ = WorkspaceAPIKey.objects.create_key(workspace=workspace, name="k")
    web.post(f"/settings/api-keys/{api_key.prefix}/revoke/")
    assert WorkspaceAPIKey.objects.get().revoked


def test_key_urls_carry_the_prefix_never_the_hash(web, workspace):
    api_key, _ = WorkspaceAPIKey.objects.create_key(workspace=workspace, name="k")
    page = web.get("/settings/api-keys/").content.decode()
    assert f"/settings/api-keys/{api_key.prefix}/revoke/" in page
    assert api_key.hashed_key not in page
    assert api_key.pk not in page


def test_static_files_are_served_locally_not_from_a_cdn(web):
    body = web.get("/").content.decode()
    assert "/static/vendor/htmx-2.0.11.min.js" in body
    assert "https://" not in body.split("<body")[0]
