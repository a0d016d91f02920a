"""Enrollment takes leads in score order, and the lead page shows the score in words."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach import enrollment
from outreach.models import Enrollment
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    OutcomeFactory,
    SequenceStepFactory,
)


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1, kind="first_touch")
    return campaign


def test_eligible_leads_come_by_score_with_unscored_last(workspace, campaign):
    unscored = LeadFactory(workspace=workspace)
    low = LeadFactory(workspace=workspace, score=0.2)
    high = LeadFactory(workspace=workspace, score=0.9)
    middle = LeadFactory(workspace=workspace, score=0.5)
    newer_unscored = LeadFactory(workspace=workspace)
    order = list(enrollment.eligible_leads(campaign=campaign))
    assert order == [high, middle, low, newer_unscored, unscored]


def test_equal_scores_go_newest_first(workspace, campaign):
    older = LeadFactory(workspace=workspace, score=0.4)
    newer = LeadFactory(workspace=workspace, score=0.4)
    assert list(enrollment.eligible_leads(campaign=campaign)) == [newer, older]


def test_enrolling_takes_the_best_scored_leads(api, workspace, campaign):
    best = LeadFactory(workspace=workspace, score=0.8)
    second = LeadFactory(workspace=workspace, score=0.6)
    LeadFactory(workspace=workspace, score=0.1)
    LeadFactory(workspace=workspace)  # newest, but unscored
    response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {"limit": 2}, format="json")
    assert response.status_code == 200, response.json()
    enrolled = {e.lead_id for e in Enrollment.objects.for_workspace(workspace)}
    assert enrolled == {best.pk, second.pk}


def test_a_high_score_does_not_make_an_ineligible_lead_eligible(workspace, campaign):
    answered = LeadFactory(workspace=workspace, score=0.99)
    OutcomeFactory(workspace=workspace, lead=answered, kind="not_interested")
    no_email = LeadFactory(workspace=workspace, score=0.98, email="")
    kept = LeadFactory(workspace=workspace, score=0.1)
    assert list(enrollment.eligible_leads(campaign=campaign)) == [kept]
    assert no_email not in enrollment.eligible_leads(campaign=campaign)


def test_enrolling_named_leads_finds_the_eligible_ones_in_the_same_order(workspace, campaign):
    """Named leads are checked through the lead-id indexes, not `eligible_leads`'
    anti-joins: the same leads come out, in the same order."""
    elsewhere = CampaignFactory(workspace=workspace)
    named = [
        LeadFactory(workspace=workspace, score=0.7),
        LeadFactory(workspace=workspace, score=0.9),
        LeadFactory(workspace=workspace),  # unscored
        LeadFactory(workspace=workspace, score=0.7),  # a tie, newer
        EnrollmentFactory(workspace=workspace, campaign=elsewhere).lead,  # active elsewhere
        EnrollmentFactory(
            workspace=workspace, campaign=elsewhere, status=Enrollment.Status.STOPPED
        ).lead,  # stopped elsewhere: free again
        EnrollmentFactory(
            workspace=workspace, campaign=campaign, status=Enrollment.Status.STOPPED
        ).lead,  # once in this campaign
        OutcomeFactory(workspace=workspace, kind="bounced").lead,
        OutcomeFactory(workspace=workspace, kind="no_response").lead,  # may be tried again
        LeadFactory(workspace=workspace, email="", score=0.99),
    ]
    LeadFactory(workspace=workspace, score=0.95)  # eligible, but not named

    named_ids = {lead.pk for lead in named}
    expected = [
        lead for lead in enrollment.eligible_leads(campaign=campaign) if lead.pk in named_ids
    ]
    assert len(expected) == 6
    assert list(enrollment._eligible_among(campaign, named_ids)) == expected

    result = enrollment.campaign_enroll(
        campaign=campaign, lead_ids=[str(i) for i in named_ids], limit=3
    )
    assert {e.lead for e in result.enrolled} == set(expected[:3])  # the best three
    assert result.skipped == {"not eligible (no email, already active, opted out or enrolled)": 4}


# -- the score on the lead page ----------------------------------------------------------

REASONS = [
    {"feature": "seniority=vp", "label": "Title seniority: VP", "contribution": 0.42},
    {"feature": "industry=retail", "label": "Industry: retail", "contribution": -0.31},
    {"feature": "no_label", "contribution": 0.9},
    {"feature": "signal=funding", "label": "Raised money recently", "contribution": "junk"},
]


def _page(web, lead) -> str:
    return web.get(reverse("lead-detail", args=[lead.pk])).content.decode()


def test_the_lead_page_shows_a_profile_score_and_its_reasons_in_words(web, workspace):
    lead = LeadFactory(
        workspace=workspace,
        score=0.734,
        score_basis="profile",
        score_reasons=REASONS,
        scored_at=timezone.now(),
    )
    page = _page(web, lead)
    assert "73%" in page
    assert "from your ideal customer profile" in page
    assert "+0.42</span> Title seniority: VP" in page
    assert "−0.31</span> Industry: retail" in page
    assert "lowers the score" in page and "raises the score" in page
    # Raw feature keys never reach the page; a reason without words is left out.
    for key in ("seniority=vp", "industry=retail", "no_label", "0.90", "junk"):
        assert key not in page


def _learned_from_three(workspace) -> None:
    """Three outcomes learned from, told the page whichever way it asks: the ranking
    core's model when that is installed, the outcome table when not."""
    for kind in ("positive_reply", "not_interested", "no_response"):
        OutcomeFactory(workspace=workspace, kind=kind)
    OutcomeFactory(workspace=workspace, kind="unsubscribed")  # not a lesson about fit
    try:
        from ranking.models import RankingModel
    except ImportError:
        return
    RankingModel.unscoped_objects.create(
        workspace=workspace, n_features=1, mean=b"", precision=b"", outcomes_learned=3
    )


def test_a_learned_score_says_how_many_outcomes_it_learned_from(web, workspace):
    _learned_from_three(workspace)
    lead = LeadFactory(workspace=workspace, score=0.12, score_basis="model", score_reasons=[])
    page = _page(web, lead)
    assert "12%" in page
    assert "learned from 3 outcomes" in page
    assert "ideal customer profile" not in page


def test_an_unscored_lead_says_so(web, workspace):
    lead = LeadFactory(workspace=workspace)
    assert "Not scored yet." in _page(web, lead)


def test_bad_reasons_in_the_column_do_not_break_the_page(web, workspace):
    lead = LeadFactory(
        workspace=workspace, score=0.5, score_basis="profile", score_reasons={"not": "a list"}
    )
    response = web.get(reverse("lead-detail", args=[lead.pk]))
    assert response.status_code == 200
    assert "50%" in response.content.decode()
