"""The suppression list in the web UI: search, add one, upload a CSV file, lift (admins)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from leads.contactability import suppression_add_erased
from leads.models import Suppression
from sdr.models import Activity, Membership
from tests.factories import MembershipFactory, SuppressionFactory

URL = "/leads/suppressions/"


def values(workspace) -> set[str]:
    return set(Suppression.objects.for_workspace(workspace).values_list("value", flat=True))


def test_the_list_shows_and_searches_the_workspaces_suppressions(web, workspace):
    SuppressionFactory(workspace=workspace, value="dana@acme.example")
    SuppressionFactory(workspace=workspace, kind="domain", value="beta.example")
    suppression_add_erased(workspace=workspace, email="gone@acme.example")
    page = web.get(URL).content.decode()
    assert "dana@acme.example" in page and "beta.example" in page
    assert "erased email address, kept as a hash" in page
    assert "gone@acme.example" not in page
    searched = web.get(URL, {"q": "BETA"}).content.decode()
    assert "beta.example" in searched and "dana@acme.example" not in searched


def test_adding_one_keeps_it_with_the_reason_and_who(web, workspace, member):
    response = web.post(URL, {"value": " Dana@Acme.Example ", "reason": "asked on the phone"})
    assert response.status_code == 302
    row = Suppression.objects.for_workspace(workspace).get()
    assert (row.value, row.reason, row.source) == ("dana@acme.example", "asked on the phone", "ui")
    assert row.created_by == member
    page = web.get(URL).content.decode()
    assert "Added dana@acme.example." in page


def test_adding_a_bad_value_says_why(web, workspace):
    response = web.post(URL, {"value": "not an address"}, follow=True)
    assert b"neither an email address nor a domain" in response.content
    assert not Suppression.objects.for_workspace(workspace).exists()


def test_a_csv_upload_keeps_the_good_rows_and_reports_each_bad_one_by_line(web, workspace):
    SuppressionFactory(workspace=workspace, value="known@acme.example")
    content = b"email\na@acme.example\nnot an address\n\nbeta.example\nknown@acme.example\ndana@\n"
    upload = SimpleUploadedFile("list.csv", content, content_type="text/csv")
    response = web.post(URL, {"file": upload, "reason": "from the old tool"})
    assert response.status_code == 200
    page = response.content.decode()
    errors = page.split('data-testid="upload-errors"')[1].split("</section>")[0]
    assert "Line 3: not an address" in errors and "Line 7: dana@" in errors
    assert "Added 2; 1 were already on the list; 2 could not be read." in page
    assert values(workspace) == {"known@acme.example", "a@acme.example", "beta.example"}
    assert set(
        Suppression.objects.for_workspace(workspace)
        .exclude(value="known@acme.example")
        .values_list("reason", flat=True)
    ) == {"from the old tool"}


def test_an_owner_lifts_a_suppression_and_it_is_logged(web, workspace):
    row = SuppressionFactory(workspace=workspace, value="dana@acme.example")
    page = web.get(URL).content.decode()
    assert f'action="/leads/suppressions/{row.pk}/lift/"' in page
    response = web.post(f"/leads/suppressions/{row.pk}/lift/", follow=True)
    assert b"Lifted the suppression of dana@acme.example" in response.content
    assert not Suppression.objects.for_workspace(workspace).exists()
    assert Activity.objects.for_workspace(workspace).filter(type="suppression.lifted").exists()


def test_a_member_who_is_not_an_admin_cannot_lift(client, workspace):
    client.force_login(MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user)
    row = SuppressionFactory(workspace=workspace, value="dana@acme.example")
    assert "/lift/" not in client.get(URL).content.decode()
    response = client.post(f"/leads/suppressions/{row.pk}/lift/", follow=True)
    assert b"Only an owner or admin" in response.content
    assert Suppression.objects.for_workspace(workspace).filter(pk=row.pk).exists()


def test_an_erasure_entry_cannot_be_lifted(web, workspace):
    row = suppression_add_erased(workspace=workspace, email="gone@acme.example")
    assert "/lift/" not in web.get(URL).content.decode()
    response = web.post(f"/leads/suppressions/{row.pk}/lift/", follow=True)
    assert b"erasure request" in response.content
    assert Suppression.objects.for_workspace(workspace).filter(pk=row.pk).exists()


def test_the_suppression_page_is_in_the_navigation(web, workspace):
    assert f'href="{URL}"' in web.get("/leads/").content.decode()
