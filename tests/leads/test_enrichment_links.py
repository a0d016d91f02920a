"""Links found on scraped pages are stored only if they pass the same checks as links
from a CSV or the API: a `javascript:` URL dressed as a LinkedIn profile is dropped."""

from __future__ import annotations

import pytest

from leads.enrichment import people_record
from leads.extraction import ExtractedPerson, PageExtraction
from leads.models import Lead
from tests.factories import CompanyFactory


def team_page(*people: ExtractedPerson) -> PageExtraction:
    return PageExtraction(
        url="https://acme.example/team",
        page_kind="team",
        values=[],
        signals=[],
        people=list(people),
        links={},
        warnings=[],
    )


def person(name: str, linkedin_url: str) -> ExtractedPerson:
    return ExtractedPerson(
        name=name, title="VP Sales", linkedin_url=linkedin_url, email="", evidence=name
    )


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)//linkedin.com/in/x",
        "javascript://linkedin.com/in/x%0aalert(1)",
        "data:text/html,linkedin.com/in/x",
        'https://www.linkedin.com/in/x"><script>alert(1)</script>',
        "https://evil.example/linkedin.com/in/x",
    ],
)
def test_a_hostile_profile_link_is_not_stored(workspace, url):
    company = CompanyFactory(workspace=workspace)
    people_record(company=company, extractions=[team_page(person("Dana Okafor", url))])

    lead = Lead.objects.for_workspace(workspace).get(company=company, last_name="Okafor")
    assert lead.linkedin_url in ("", "https://www.linkedin.com/in/x")


def test_a_real_profile_link_is_stored_in_its_usual_form(workspace):
    company = CompanyFactory(workspace=workspace)
    url = "https://uk.linkedin.com/in/dana-okafor/?trk=team"
    people_record(company=company, extractions=[team_page(person("Dana Okafor", url))])

    lead = Lead.objects.for_workspace(workspace).get(company=company, last_name="Okafor")
    assert lead.linkedin_url == "https://www.linkedin.com/in/dana-okafor"
