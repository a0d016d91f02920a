"""Guessed addresses where people see them: `GET /api/v1/ranking/email-guesses/` and the
lead page's block; only the workspace's own, never as if they were verified."""

from __future__ import annotations

import pytest

from tests.factories import LeadFactory
from tests.ranking.factories import EmailGuessFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/ranking/email-guesses/"


def test_the_api_lists_the_workspace_guesses_and_filters_by_lead(api, workspace, other_workspace):
    mine = EmailGuessFactory(workspace=workspace, address="zoe.nunez@acme.example", based_on=2)
    other_of_mine = EmailGuessFactory(workspace=workspace)
    EmailGuessFactory(workspace=other_workspace, address="theirs@else.example")

    everything = api.get(URL)
    one_lead = api.get(URL, {"lead": str(mine.lead_id)})

    assert everything.status_code == 200
    assert {row["id"] for row in everything.json()["results"]} == {
        str(mine.pk),
        str(other_of_mine.pk),
    }
    [row] = one_lead.json()["results"]
    assert row["address"] == "zoe.nunez@acme.example"
    assert row["lead"] == str(mine.lead_id)
    assert (row["pattern"], row["based_on"], row["verified"]) == ("first.last", 2, False)


def test_the_api_gives_nothing_for_another_workspaces_lead(api, other_workspace):
    theirs = EmailGuessFactory(workspace=other_workspace)

    response = api.get(URL, {"lead": str(theirs.lead_id)})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("bad", ["not-a-uuid", "1 OR 1=1", "a" * 500])
def test_a_lead_that_is_not_an_id_is_a_clear_400(api, bad):
    response = api.get(URL, {"lead": bad})

    assert response.status_code == 400
    assert "lead" in response.content.decode()
    assert "not a valid id" in response.content.decode()


def test_a_nul_in_the_lead_is_refused_at_the_edge(api):
    response = api.get(URL, {"lead": "\x00"})

    assert response.status_code == 400
    assert "NUL character" in response.json()["error"]["message"]


def test_the_api_is_read_only(api, workspace):
    guess = EmailGuessFactory(workspace=workspace)

    assert api.post(URL, {"lead": str(guess.lead_id), "address": "x@y.example"}).status_code == 405


def test_the_lead_page_shows_the_guess_as_unverified(web, workspace):
    guess = EmailGuessFactory(
        workspace=workspace, address="zoe.nunez@acme.example", based_on=2, mx_found=True
    )

    page = web.get(f"/leads/{guess.lead_id}/").content.decode()

    assert "zoe.nunez@acme.example" in page
    assert "unverified" in page
    assert "2 known addresses at this company follow" in page
    assert "the domain has an MX record" in page


def test_the_lead_page_says_when_nothing_was_guessed_and_hides_it_when_there_is_an_email(
    web, workspace
):
    without = LeadFactory(workspace=workspace, email="")
    with_email = LeadFactory(workspace=workspace, email="dana@acme.example")
    # A guess left over from before the lead had an email is not offered in its place.
    EmailGuessFactory(workspace=workspace, lead=with_email, address="old.guess@acme.example")

    assert "none guessed yet" in web.get(f"/leads/{without.pk}/").content.decode()
    page = web.get(f"/leads/{with_email.pk}/").content.decode()
    assert 'data-testid="lead-email-guess"' not in page
    assert "old.guess@acme.example" not in page
