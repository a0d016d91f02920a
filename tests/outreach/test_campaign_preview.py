"""The sequence editor's preview (issue 14): a step drafted for a sample lead with the same
drafter and checks as a real draft, a follow-up after the steps before it, nothing kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Fact
from outreach.models import Message, SequenceStep
from sdr.models import LLMCall
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    FactFactory,
    LeadFactory,
    SequenceStepFactory,
    SignalFactory,
)
from tests.outreach.test_llm_drafting import check_answer, draft_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace, name="Warehouses")
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    SequenceStepFactory(
        workspace=workspace,
        campaign=campaign,
        order=2,
        kind=SequenceStep.Kind.FOLLOW_UP,
        delay_business_days=3,
    )
    return campaign


@pytest.fixture
def lead(workspace):
    company = CompanyFactory(
        workspace=workspace, name="Northwind Robotics", description="Northwind builds robots."
    )
    SignalFactory(
        workspace=workspace,
        company=company,
        kind="funding",
        title="Northwind raised a $12M Series A",
        happened_on=timezone.now().date() - timedelta(days=5),
    )
    FactFactory(
        workspace=workspace,
        company=company,
        field="description",
        value="Northwind builds autonomous pallet movers.",
    )
    return LeadFactory(workspace=workspace, company=company, first_name="Dana", title="COO")


def test_the_first_step_is_drafted_for_a_sample_lead_and_nothing_is_kept(web, campaign, lead):
    page = web.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f'href="/campaigns/{campaign.pk}/preview/"' in page

    response = web.get(f"/campaigns/{campaign.pk}/preview/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="preview"' in html and "Hi Dana," in html
    assert "the offline drafter" in html
    assert not Message.objects.for_workspace(campaign.workspace).exists()


def test_a_follow_up_is_drafted_after_the_step_before_it(web, campaign, lead):
    first = web.get(f"/campaigns/{campaign.pk}/preview/", {"step": "1", "lead": str(lead.pk)})
    second = web.get(f"/campaigns/{campaign.pk}/preview/", {"step": "2", "lead": str(lead.pk)})

    first_html, second_html = first.content.decode(), second.content.decode()
    subject = first_html.split("<strong>Subject</strong> ", 1)[1].split("</p>", 1)[0]
    # The follow-up answers in the thread the first touch started.
    assert f"<strong>Subject</strong> Re: {subject}</p>" in second_html
    assert second_html != first_html


def test_with_no_steps_or_no_leads_the_page_says_what_to_do(web, workspace):
    empty = CampaignFactory(workspace=workspace)
    html = web.get(f"/campaigns/{empty.pk}/preview/").content.decode()
    assert "has no steps yet" in html
    SequenceStepFactory(workspace=workspace, campaign=empty, order=1)
    html = web.get(f"/campaigns/{empty.pk}/preview/").content.decode()
    assert "No lead to preview with" in html


def test_a_lead_of_another_workspace_is_never_previewed(web, campaign, lead, neighbour):
    theirs = neighbour.rows["eligible_lead"]
    html = web.get(f"/campaigns/{campaign.pk}/preview/", {"lead": str(theirs.pk)}).content.decode()
    assert theirs.company.name not in html
    assert "Northwind Robotics" in html  # the workspace's own sample instead
    assert web.get(f"/campaigns/{campaign.pk}/preview/", {"lead": "nope"}).status_code == 400


def test_with_a_model_the_preview_is_the_model_s_draft_and_its_cost_is_logged(
    web, campaign, lead, openai_server
):
    fact = Fact.objects.for_workspace(campaign.workspace).get(field="description")
    body = (
        "Hi Dana,\n\nI read that Northwind Robotics builds autonomous pallet movers.\n\n"
        "Worth a 15-minute call next week?\n\nSam"
    )
    claim = {"text": "builds autonomous pallet movers", "fact_ids": [str(fact.pk)]}
    openai_server.script.extend(
        [
            draft_answer(
                body=body, subject="Pallet movers", citations=(str(fact.pk),), claims=[claim]
            ),
            check_answer(),
        ]
    )

    html = web.get(f"/campaigns/{campaign.pk}/preview/").content.decode()

    assert "Pallet movers" in html and "Written by the model" in html
    assert LLMCall.objects.for_workspace(campaign.workspace).exists()
    assert not Message.objects.for_workspace(campaign.workspace).exists()
