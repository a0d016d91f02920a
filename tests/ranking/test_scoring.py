"""The ranking learns per workspace: profile prior at cold start, scores move with
outcomes, reasons in the shape the UI renders, nightly equals incremental."""

from __future__ import annotations

import numpy as np

from leads.models import Lead
from outreach.models import Outcome
from outreach.outcomes import outcome_record
from ranking import features, scoring, selectors
from ranking.models import IdealCustomerProfile, RankingModel
from tests.factories import CompanyFactory, LeadFactory, OutcomeFactory, SignalFactory


def _lead(workspace, *, industry: str, seniority: str = "vp", email: str | None = None):
    company = CompanyFactory(workspace=workspace, industry=industry, employee_count=40)
    kwargs = {"email": email} if email is not None else {}
    return LeadFactory(workspace=workspace, company=company, seniority=seniority, **kwargs)


def _icp(workspace, **lists):
    return IdealCustomerProfile.objects.for_workspace(workspace).create(
        workspace=workspace, **lists
    )


def test_features_name_company_title_signals_and_profile_matches():
    facts = features.LeadFacts(
        seniority="vp",
        department="sales",
        title="VP Sales",
        industry="Software",
        employee_count=120,
        country="GB",
        tech=["HubSpot", "HubSpot", "Stripe"],
        signals=["funding:30d"],
        has_email=False,
    )
    profile = features.Profile.from_lists(
        industries=["software"], company_sizes=["51-200"], excluded=["stripe"]
    )
    names = features.lead_features(facts, profile)
    assert {
        "seniority=vp",
        "department=sales",
        "size=51-200",
        "industry=software",
        "country=gb",
        "tech=hubspot",
        "tech=stripe",
        "signal=funding:30d",
        "email=none",
        "icp:industry",
        "icp:size",
        "icp:excluded",
    } <= set(names)
    assert len(names) == len(set(names))
    assert "icp:seniority" not in names  # the profile names no seniority


def test_hostile_text_becomes_bounded_feature_values():
    facts = features.LeadFacts(industry="Ｓｏｆｔ\u200bware\n" + "x" * 500, tech=[None, ""])  # type: ignore[list-item]
    names = features.lead_features(facts, features.Profile())
    industry = next(n for n in names if n.startswith("industry="))
    assert len(industry) <= len("industry=") + 80 and "\n" not in industry
    assert not [n for n in names if n.startswith("tech=")]


def test_feature_index_matches_the_hasher():
    names = ["bias", "industry=café", "signal=funding:30d", "tech=c++"]
    X = features.features_matrix([names])
    assert sorted(X.indices.tolist()) == sorted(features.feature_index(n) for n in names)


def test_cold_start_scores_are_the_profile_fit_and_say_so(workspace):
    _icp(workspace, industries=["software"], seniorities=["vp"])
    fit = _lead(workspace, industry="Software")
    misfit = _lead(workspace, industry="Retail", seniority="entry")

    scoring.nightly_rescore(workspace=workspace)

    fit.refresh_from_db()
    misfit.refresh_from_db()
    assert fit.score_basis == misfit.score_basis == "profile"
    assert fit.score > misfit.score
    assert [r["feature"] for r in fit.score_reasons] == ["icp:industry", "icp:seniority"]
    status = selectors.model_status(workspace)
    assert status["basis"] == "profile" and status["outcomes_learned"] == 0


def test_reasons_have_the_shape_others_render(workspace):
    _icp(workspace, industries=["software"], seniorities=["vp"], titles=["sales"])
    lead = _lead(workspace, industry="Software")
    SignalFactory(workspace=workspace, company=lead.company)
    scoring.nightly_rescore(workspace=workspace)
    lead.refresh_from_db()
    assert 0 < lead.score < 1 and lead.scored_at is not None
    assert 1 <= len(lead.score_reasons) <= 5
    for reason in lead.score_reasons:
        assert set(reason) == {"feature", "label", "contribution"}
        assert isinstance(reason["contribution"], float)
    contributions = [abs(r["contribution"]) for r in lead.score_reasons]
    assert contributions == sorted(contributions, reverse=True)
    assert lead.score_reasons[0]["label"] == "Industry in your ideal customer profile"


def test_outcomes_move_scores_and_the_basis(workspace):
    fintech = [_lead(workspace, industry="Fintech") for _ in range(6)]
    retail = [_lead(workspace, industry="Retail") for _ in range(6)]
    fresh_fintech = _lead(workspace, industry="Fintech")
    fresh_retail = _lead(workspace, industry="Retail")
    scoring.nightly_rescore(workspace=workspace)
    fresh_fintech.refresh_from_db()
    before = fresh_fintech.score

    for lead in fintech:
        OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.POSITIVE_REPLY)
    for lead in retail:
        OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.NO_RESPONSE)
    assert scoring.outcomes_learn(workspace=workspace) == 12
    assert scoring.outcomes_learn(workspace=workspace) == 0  # each outcome learned once
    scoring.nightly_rescore(workspace=workspace)

    fresh_fintech.refresh_from_db()
    fresh_retail.refresh_from_db()
    # Half the outcomes were positive, far above the prior's 3%: the bias rises for every
    # lead, and the industries split around it.
    assert fresh_fintech.score > before and fresh_fintech.score > 2 * fresh_retail.score
    retail_reason = {r["feature"]: r["contribution"] for r in fresh_retail.score_reasons}
    assert retail_reason["industry=retail"] < 0
    assert fresh_fintech.score_basis == "model"
    assert fresh_fintech.score_reasons[0]["feature"] == "industry=fintech"
    assert fresh_fintech.score_reasons[0]["contribution"] > 0
    status = selectors.model_status(workspace)
    assert status == {
        "outcomes_learned": 12,
        "positives_learned": 6,
        "basis": "model",
        "updated_at": status["updated_at"],
    }


def test_recording_an_outcome_rescoring_after_commit(workspace, django_capture_on_commit_callbacks):
    won = _lead(workspace, industry="Fintech")
    waiting = _lead(workspace, industry="Fintech")
    with django_capture_on_commit_callbacks(execute=True):
        outcome_record(lead=won, kind="meeting_booked", evidence="Booked Tuesday", source="api")
    waiting.refresh_from_db()
    assert waiting.score_basis == "model"
    assert RankingModel.objects.for_workspace(workspace).get().outcomes_learned == 1


def test_nightly_rescore_equals_incremental_on_the_same_data(workspace):
    _icp(workspace, industries=["fintech"])
    leads = [_lead(workspace, industry=i) for i in ["Fintech", "Retail", "Health"] * 3]
    for lead in leads[:4]:
        OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.POSITIVE_REPLY)
    scoring.outcome_rescore(workspace=workspace, lead_id=leads[0].pk)
    incremental = {
        lead.pk: (lead.score, lead.score_reasons)
        for lead in Lead.objects.for_workspace(workspace).filter(status="new")
    }
    Lead.objects.for_workspace(workspace).update(score=None, score_reasons=[])

    scoring.nightly_rescore(workspace=workspace)

    nightly = {
        lead.pk: (lead.score, lead.score_reasons)
        for lead in Lead.objects.for_workspace(workspace).filter(status="new")
    }
    assert len(nightly) == 9 and all(score is not None for score, _ in nightly.values())
    assert nightly == incremental


def test_scoring_stays_in_its_workspace(workspace, neighbour):
    lead = _lead(workspace, industry="Fintech")
    OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.POSITIVE_REPLY)
    theirs = neighbour.rows[Lead]
    scoring.nightly_rescore(workspace=workspace)
    theirs.refresh_from_db()
    assert theirs.score is None
    # The neighbour's model (a factory's prior) learned nothing from our outcome.
    assert RankingModel.objects.for_workspace(neighbour.workspace).get().outcomes_learned == 0


def test_contact_order_explores_but_prefers_what_worked(workspace):
    good = [_lead(workspace, industry="Fintech") for _ in range(8)]
    bad = [_lead(workspace, industry="Retail") for _ in range(8)]
    for lead in good[:5]:
        OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.MEETING_BOOKED)
    for lead in bad[:5]:
        OutcomeFactory(workspace=workspace, lead=lead, kind=Outcome.Kind.NOT_INTERESTED)
    scoring.outcomes_learn(workspace=workspace)
    candidates = Lead.objects.for_workspace(workspace).filter(
        pk__in=[lead.pk for lead in [*good[5:], *bad[5:]]]
    )
    rng = np.random.default_rng(7)
    firsts = [
        selectors.leads_in_contact_order(workspace, candidates, limit=1, rng=rng)[0]
        for _ in range(40)
    ]
    # Mostly the industry that worked, but the sampling still tries the other sometimes.
    wins = sum(lead.company.industry == "Fintech" for lead in firsts)
    assert wins > 30
    ordered = selectors.leads_in_contact_order(workspace, candidates, rng=rng)
    assert sorted(lead.pk for lead in ordered) == sorted(lead.pk for lead in candidates)
    assert selectors.leads_in_contact_order(workspace, candidates.none()) == []
