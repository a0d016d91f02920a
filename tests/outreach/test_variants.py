"""Step variants and angles compete: the campaign's bandit, its statistics and the A/B
report on the campaign page and in the API."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from outreach import variants
from outreach.drafting.angles import angle_pick
from outreach.drafting.briefs import CampaignBrief, FactRef, LeadBrief, StepBrief
from outreach.models import Message, Outcome, SequenceStep
from sdr.errors import AppError
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MessageFactory,
    OutcomeFactory,
    ReplyFactory,
    SequenceStepFactory,
)

TWO_VARIANTS = [
    {"key": "A", "label": "Short question", "instructions": "Ask one short question."},
    {"key": "B", "label": "Case study first", "instructions": "Open with the case study."},
]


# -- the interval ------------------------------------------------------------------------


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval written out, to check the library call against."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_the_positive_rate_interval_is_the_95_percent_wilson_interval():
    low, high = variants.positive_interval(5, 100)
    # The textbook value for 5 of 100 (Newcombe 1998): 2.15% to 11.18%.
    assert round(low, 4) == 0.0215
    assert round(high, 4) == 0.1118
    for k, n in [(0, 10), (3, 7), (40, 40), (12, 950)]:
        assert variants.positive_interval(k, n) == pytest.approx(_wilson(k, n), abs=1e-9)


def test_no_sends_has_no_interval_and_none_positive_has_a_lower_bound_of_zero():
    assert variants.positive_interval(0, 0) is None
    low, high = variants.positive_interval(0, 20)
    assert low == pytest.approx(0.0, abs=1e-12)
    assert 0.1 < high < 0.2


# -- the bandit, on synthetic outcomes ---------------------------------------------------


def test_variant_choice_converges_on_the_better_variant():
    rng = np.random.default_rng(11)
    truth = {"A": 0.03, "B": 0.12}
    arms = [variants.Variant(key=k, label=k, instructions="") for k in truth]
    sends = dict.fromkeys(truth, 0)
    wins = dict.fromkeys(truth, 0)
    chosen = []
    for _ in range(3000):
        counts = {k: variants.Counts(sends=sends[k], positives=wins[k]) for k in truth}
        pick = variants.variant_choose(variants=arms, counts=counts, rng=rng)
        assert pick is not None
        chosen.append(pick.key)
        sends[pick.key] += 1
        wins[pick.key] += int(rng.random() < truth[pick.key])
    early = chosen[:200].count("B") / 200
    late = chosen[-1000:].count("B") / 1000
    assert late > 0.9
    assert late > early
    assert sends["A"] > 20  # the worse arm was still tried


def test_the_same_seed_makes_the_same_choices():
    arms = [variants.Variant(key=k, label=k, instructions="") for k in "ABC"]
    counts = {"A": variants.Counts(sends=10, positives=1)}

    def run(seed: int) -> list[str]:
        rng = np.random.default_rng(seed)
        return [
            variants.variant_choose(variants=arms, counts=counts, rng=rng).key for _ in range(50)
        ]

    assert run(3) == run(3)


def test_a_step_without_variants_gets_none():
    rng = np.random.default_rng(0)
    assert variants.variant_choose(variants=[], counts={}, rng=rng) is None


TODAY = date(2026, 3, 1)
CAMPAIGN = CampaignBrief(product="Pick-to-light carts", call_to_action="A call?")
LEAD = LeadBrief(
    first_name="Dana",
    facts=(
        FactRef(
            id="f1",
            field="signal.funding",
            value={"title": "Raised a Series B"},
            happened_on=TODAY - timedelta(days=10),
            confidence=0.9,
        ),
        FactRef(id="f2", field="industry", value="Logistics", confidence=0.9),
    ),
)


def test_without_statistics_the_angle_is_the_fixed_choice():
    fixed = angle_pick(lead=LEAD, campaign=CAMPAIGN, today=TODAY)
    assert fixed.kind == "funding"
    assert angle_pick(lead=LEAD, campaign=CAMPAIGN, today=TODAY, bias={}) == fixed
    rng = np.random.default_rng(1)
    assert variants.angle_bias(counts={}, rng=rng) == {}


def test_angles_that_earned_replies_win_more_often():
    counts = {
        "funding": variants.Counts(sends=200, positives=1),
        "industry": variants.Counts(sends=200, positives=30),
    }
    rng = np.random.default_rng(5)
    kinds = [
        angle_pick(
            lead=LEAD,
            campaign=CAMPAIGN,
            today=TODAY,
            bias=variants.angle_bias(counts=counts, rng=rng),
        ).kind
        for _ in range(200)
    ]
    assert kinds.count("industry") > 150


def test_untried_angle_kinds_get_a_weight_too():
    rng = np.random.default_rng(2)
    bias = variants.angle_bias(counts={"funding": variants.Counts(sends=50, positives=2)}, rng=rng)
    assert {"hiring", "industry", "role_fit"} <= set(bias)
    assert all(weight > 0 for weight in bias.values())


# -- variants in and out -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("A", "must be a list"),
        ([1], "must be an object"),
        ([{"key": ""}], "key must be"),
        ([{"key": "has space"}], "key must be"),
        ([{"key": "A"}, {"key": "A"}], "used twice"),
        ([{"key": "A", "instructions": 5}], "must be text"),
        ([{"key": "A", "instructions": "x" * 2001}], "must be text"),
        ([{"key": str(i)} for i in range(6)], "at most 5"),
    ],
)
def test_bad_variants_are_refused_with_a_reason(raw, words):
    with pytest.raises(AppError) as caught:
        variants.variants_clean(raw)
    assert words in caught.value.message


def test_variants_are_stored_clean_and_junk_in_the_column_is_ignored(workspace):
    step = SequenceStepFactory(workspace=workspace)
    variants.step_variants_set(
        step=step, variants=[{"key": " A ", "instructions": " Ask. "}, {"key": "B"}]
    )
    step.refresh_from_db()
    assert step.variants == [
        {"key": "A", "label": "A", "instructions": "Ask."},
        {"key": "B", "label": "B", "instructions": ""},
    ]
    step.variants = [*step.variants, "junk", {"label": "no key"}]
    assert [v.key for v in variants.step_variants(step)] == ["A", "B"]


def test_a_variant_replaces_the_step_instructions_in_the_brief():
    brief = StepBrief(instructions="Be brief.")
    chosen = variants.Variant(key="B", label="Case", instructions="Open with the case study.")
    assert variants.DraftPlan(chosen, {}).step(brief).instructions == "Open with the case study."
    assert variants.DraftPlan(None, {}).step(brief) is brief
    empty = variants.Variant(key="A", label="A", instructions="")
    assert variants.DraftPlan(empty, {}).step(brief) is brief


# -- statistics from stored outcomes -----------------------------------------------------


@pytest.fixture
def campaign(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(
        workspace=workspace, campaign=campaign, order=1, kind="first_touch", variants=TWO_VARIANTS
    )
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=2, kind="follow_up")
    return campaign


def _sent(campaign, *, step_order=1, variant="A", kind="funding", enrollment=None, ago=5):
    step = campaign.steps.get(order=step_order)
    enrollment = enrollment or EnrollmentFactory(workspace=campaign.workspace, campaign=campaign)
    return MessageFactory(
        workspace=campaign.workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.SENT,
        sent_at=timezone.now() - timedelta(days=ago),
        variant=variant,
        angle={"kind": kind, "summary": "x", "fact": ""},
    )


def _reply(message, category="interested", **extra):
    return ReplyFactory(
        workspace=message.workspace,
        message=message,
        enrollment=message.enrollment,
        lead=message.enrollment.lead,
        category=category,
        **extra,
    )


def _won(message, kind=Outcome.Kind.POSITIVE_REPLY):
    return OutcomeFactory(
        workspace=message.workspace, lead=message.enrollment.lead, kind=kind, source="reply"
    )


def test_counts_credit_the_answered_message_and_ignore_auto_replies(workspace, campaign):
    answered = _sent(campaign, variant="B", kind="hiring")
    _reply(answered)
    _won(answered)
    # A meeting booked in the CRM after two sends with no reply: the last send gets it.
    first = _sent(campaign, variant="A", ago=9)
    last = _sent(campaign, step_order=2, variant="", enrollment=first.enrollment, ago=3)
    _won(last, kind=Outcome.Kind.MEETING_BOOKED)
    out_of_office = _sent(campaign, variant="A")
    _reply(out_of_office, category="auto_reply", is_auto_reply=True)
    refused = _sent(campaign, variant="A")
    _reply(refused, category="not_interested")
    OutcomeFactory(workspace=workspace, lead=refused.enrollment.lead, kind="not_interested")
    MessageFactory(  # drafted, not sent: not a send
        workspace=workspace,
        enrollment=EnrollmentFactory(workspace=workspace, campaign=campaign),
        step=campaign.steps.get(order=1),
        variant="A",
    )

    by_variant, by_angle = variants.campaign_counts(campaign=campaign)
    step1, step2 = campaign.steps.order_by("order")
    assert by_variant[(step1.pk, "A")] == variants.Counts(sends=3, replies=1, positives=0)
    assert by_variant[(step1.pk, "B")] == variants.Counts(sends=1, replies=1, positives=1)
    assert by_variant[(step2.pk, "")] == variants.Counts(sends=1, replies=0, positives=1)
    assert by_angle["hiring"] == variants.Counts(sends=1, replies=1, positives=1)
    assert by_angle["funding"] == variants.Counts(sends=4, replies=1, positives=1)


def test_an_outcome_before_the_send_is_not_credited_to_it(workspace, campaign):
    message = _sent(campaign, variant="A", ago=1)
    OutcomeFactory(
        workspace=workspace,
        lead=message.enrollment.lead,
        kind="positive_reply",
        occurred_at=timezone.now() - timedelta(days=30),
    )
    step1 = campaign.steps.get(order=1)
    by_variant, _ = variants.campaign_counts(campaign=campaign)
    assert by_variant[(step1.pk, "A")].positives == 0


def test_draft_plan_picks_the_winning_variant_and_records_it(workspace, campaign):
    for i in range(30):
        _sent(campaign, variant="A")
        won = _sent(campaign, variant="B")
        if i % 3 == 0:
            _reply(won)
            _won(won)
    waiting = MessageFactory(
        workspace=workspace,
        enrollment=EnrollmentFactory(workspace=workspace, campaign=campaign),
        step=campaign.steps.get(order=1),
        status=Message.Status.DRAFTING,
    )
    plan = variants.draft_plan(message=waiting, rng=np.random.default_rng(7))
    assert plan.variant is not None and plan.variant.key == "B"
    assert plan.angle_bias  # the campaign has sent: angles are weighted
    waiting.refresh_from_db()
    assert waiting.variant == "B"


def test_a_campaigns_drafts_read_its_counts_once_a_minute(workspace, campaign, monkeypatch):
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _sent(campaign, variant="A")

    def waiting():
        return MessageFactory(
            workspace=workspace,
            enrollment=EnrollmentFactory(workspace=workspace, campaign=campaign),
            step=campaign.steps.get(order=1),
            status=Message.Status.DRAFTING,
        )

    def grouped_reads(message) -> int:
        with CaptureQueriesContext(connection) as seen:
            variants.draft_plan(message=message, rng=np.random.default_rng(7))
        return sum("GROUP BY" in q["sql"] for q in seen.captured_queries)

    assert grouped_reads(waiting()) == 1
    _sent(campaign, variant="B")  # within the minute: the next draft does not see it yet
    assert grouped_reads(waiting()) == 0
    later = time.time() + variants.COUNTS_FRESH_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert grouped_reads(waiting()) == 1


def test_enrolled_drafts_record_their_variant(
    api, workspace, campaign, django_capture_on_commit_callbacks
):
    LeadFactory(workspace=workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/campaigns/{campaign.pk}/enroll/", {}, format="json")
    assert response.json()["enrolled"] == 1
    message = Message.objects.for_workspace(workspace).get()
    # Drafted (ready or held by the verifier: either way the bandit's choice is kept).
    assert message.status in {Message.Status.PENDING_REVIEW, Message.Status.HELD}
    assert message.variant in {"A", "B"}
    assert message.angle["kind"]


# -- the report: page and API ------------------------------------------------------------


@pytest.fixture
def results(workspace, campaign):
    for i in range(20):
        a = _sent(campaign, variant="A")
        b = _sent(campaign, variant="B", kind="industry")
        if i < 2:
            _reply(a)
            _won(a)
        if i < 6:
            _reply(b)
            _won(b)
    return campaign


def test_the_campaign_page_shows_the_ab_report(web, results):
    page = web.get(reverse("campaign-detail", args=[results.pk])).content.decode()
    assert "Step 1: Short question" in page
    assert "Step 1: Case study first" in page
    assert "Step 2: Single version" in page
    # 6 of 20: 30.0%, Wilson 95% from 14.5% to 51.9%.
    low, high = _wilson(6, 20)
    assert "30.0%" in page
    assert f"{low * 100:.1f}% to {high * 100:.1f}%" in page
    assert "Their industry" in page and "Funding round" in page


def test_the_api_serves_the_ab_report(api, results):
    response = api.get(f"/api/v1/campaigns/{results.pk}/variants/")
    assert response.status_code == 200
    body = response.json()
    rows = {(r["step_order"], r["key"]): r for r in body["variants"]}
    b = rows[(1, "B")]
    assert (b["sends"], b["replies"], b["positives"]) == (20, 6, 6)
    assert b["positive_rate"] == pytest.approx(0.3)
    assert (b["interval_low"], b["interval_high"]) == pytest.approx(_wilson(6, 20))
    assert rows[(2, "")]["sends"] == 0 and rows[(2, "")]["positive_rate"] is None
    angles = {r["key"]: r for r in body["angles"]}
    assert angles["funding"]["positives"] == 2
    assert angles["funding"]["step_order"] is None


def test_another_workspaces_campaign_report_is_not_found(api, other_workspace):
    theirs = CampaignFactory(workspace=other_workspace)
    assert api.get(f"/api/v1/campaigns/{theirs.pk}/variants/").status_code == 404


def test_the_report_is_in_the_openapi_schema(api):
    schema = api.get(reverse("api-schema"), {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/campaigns/{id}/variants/"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][name]["properties"]) == {"variants", "angles"}


def test_a_new_campaign_report_lists_its_variants_with_no_sends(workspace):
    campaign = CampaignFactory(workspace=workspace)
    SequenceStepFactory(
        workspace=workspace,
        campaign=campaign,
        kind=SequenceStep.Kind.FIRST_TOUCH,
        variants=TWO_VARIANTS,
    )
    report = variants.campaign_ab_report(campaign=campaign)
    assert [(r.key, r.sends, r.rate_text, r.interval_text) for r in report.variants] == [
        ("A", 0, "—", "—"),
        ("B", 0, "—", "—"),
    ]
    assert report.angles == []


# -- variants through the API ------------------------------------------------------------

NEW_CAMPAIGN = {
    "name": "Warehouse Q2",
    "product": "Pick-to-light carts",
    "call_to_action": "Worth a call?",
}


def test_a_campaign_is_created_with_step_variants_and_shows_them(api, workspace):
    steps = [{"kind": "first_touch", "variants": TWO_VARIANTS}, {"kind": "follow_up"}]
    response = api.post("/api/v1/campaigns/", {**NEW_CAMPAIGN, "steps": steps}, format="json")
    assert response.status_code == 201, response.json()
    shown = response.json()["steps"]
    assert shown[0]["variants"] == TWO_VARIANTS
    assert shown[1]["variants"] == []
    step = SequenceStep.objects.for_workspace(workspace).get(order=1)
    assert [v.key for v in variants.step_variants(step)] == ["A", "B"]


@pytest.mark.parametrize(
    "bad",
    [
        [{"key": "has space"}],
        [{"label": "no key"}],
        [{"key": "A"}, {"key": "A"}],
        [{"key": str(i)} for i in range(6)],
        "A",
    ],
)
def test_bad_step_variants_get_a_400_and_change_nothing(api, workspace, bad):
    steps = [{"kind": "first_touch", "variants": bad}]
    response = api.post("/api/v1/campaigns/", {**NEW_CAMPAIGN, "steps": steps}, format="json")
    assert response.status_code == 400, response.json()
    assert not SequenceStep.objects.for_workspace(workspace).exists()
