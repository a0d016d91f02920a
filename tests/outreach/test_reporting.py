"""The dashboard's funnel (issue 14): each stage counted by when it happened in the period,
rates against the stage before, per campaign and per mailbox, sending health with its
warnings, model cost per email and per positive reply; in a bounded number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach import reporting
from outreach.charts import weekly_rates_chart
from outreach.models import Message, Outcome, Reply
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    LLMCallFactory,
    MailboxFactory,
    MessageFactory,
    OutcomeFactory,
    ReplyFactory,
    SequenceStepFactory,
)

pytestmark = pytest.mark.django_db


def _campaign(workspace, name: str):
    campaign = CampaignFactory(workspace=workspace, name=name)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    return campaign, step


def _sent(workspace, campaign, step, mailbox, *, days_ago: int = 1, lead=None) -> Message:
    lead = lead or LeadFactory(workspace=workspace)
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    when = timezone.now() - timedelta(days=days_ago)
    return MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.SENT,
        approved_at=when,
        sent_at=when,
        mailbox=mailbox,
    )


def _reply(workspace, message: Message, category: str, *, days_ago: int = 0) -> Reply:
    return ReplyFactory(
        workspace=workspace,
        lead=message.enrollment.lead,
        enrollment=message.enrollment,
        message=message,
        category=category,
        received_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def world(workspace):
    """Two campaigns from two mailboxes: Q1 sent 4 (2 replies, 1 positive, 1 bounce),
    Q2 sent 1 (no answer); one Q1 send is 60 days old, outside the 30-day period."""
    q1, q1_step = _campaign(workspace, "Q1 warehouses")
    q2, q2_step = _campaign(workspace, "Q2 retail")
    sam = MailboxFactory(workspace=workspace, from_name="Sam", from_email="sam@pickwell.example")
    kim = MailboxFactory(workspace=workspace, from_name="", from_email="kim@pickwell.example")
    q1_sends = [_sent(workspace, q1, q1_step, sam) for _ in range(4)]
    old = _sent(workspace, q1, q1_step, sam, days_ago=60)
    _sent(workspace, q2, q2_step, kim)
    _reply(workspace, q1_sends[0], Reply.Category.INTERESTED)
    _reply(workspace, q1_sends[1], Reply.Category.NOT_INTERESTED)
    _reply(workspace, q1_sends[2], Reply.Category.BOUNCE)
    _reply(workspace, q1_sends[3], Reply.Category.AUTO_REPLY)
    _reply(workspace, old, Reply.Category.INTERESTED, days_ago=59)
    OutcomeFactory(
        workspace=workspace, lead=q1_sends[0].enrollment.lead, kind=Outcome.Kind.POSITIVE_REPLY
    )
    OutcomeFactory(workspace=workspace, lead=q1_sends[2].enrollment.lead, kind=Outcome.Kind.BOUNCED)
    OutcomeFactory(
        workspace=workspace,
        lead=old.enrollment.lead,
        kind=Outcome.Kind.POSITIVE_REPLY,
        occurred_at=timezone.now() - timedelta(days=59),
    )
    LLMCallFactory(workspace=workspace, cost=Decimal("0.50"))
    return {"q1": q1, "q2": q2}


def _stages(funnel) -> dict[str, tuple[int, float | None]]:
    return {stage.label: (stage.count, stage.rate) for stage in funnel.stages}


def test_the_funnel_counts_what_happened_in_the_period_with_rates(workspace, world):
    funnel = reporting.funnel(workspace=workspace, period="30")
    stages = _stages(funnel)
    assert stages["Sent"][0] == 5  # the 60-day-old send is outside
    assert stages["Approved"][0] == 5
    # Replied: people who wrote back; the auto-reply and the bounce are not replies.
    assert stages["Replied"] == (2, 2 / 5)
    assert stages["Positive replies"] == (1, 1 / 2)
    assert stages["Meetings booked"] == (0, 0.0)
    assert funnel.bounced == 1
    assert funnel.bounce_rate == pytest.approx(1 / 5)
    assert funnel.llm_cost == Decimal("0.50")
    assert funnel.llm_cost_per_email == Decimal("0.1000")
    assert funnel.llm_cost_per_positive == Decimal("0.5000")

    everything = _stages(reporting.funnel(workspace=workspace, period="all"))
    assert everything["Sent"][0] == 6
    assert everything["Positive replies"][0] == 2


def test_weeks_show_sends_and_the_people_who_answered_newest_first(workspace, world):
    weeks = reporting.funnel(workspace=workspace, period="all").weeks
    assert weeks == sorted(weeks, key=lambda week: week.starts, reverse=True)
    assert sum(week.sent for week in weeks) == 6
    assert sum(week.replied for week in weeks) == 3  # 2 this month, 1 two months ago
    assert sum(week.positive for week in weeks) == 2
    assert all(week.starts.weekday() == 0 for week in weeks)  # each starts on a Monday
    recent = reporting.funnel(workspace=workspace, period="30").weeks
    assert sum(week.sent for week in recent) == 5


def test_a_bounce_rate_over_the_line_is_a_warning(workspace, world):
    warnings = reporting.funnel(workspace=workspace, period="30").health_warnings
    assert len(warnings) == 1 and "20.0% of sent emails bounced" in warnings[0]


def test_campaigns_and_mailboxes_each_get_their_row(workspace, world):
    funnel = reporting.funnel(workspace=workspace, period="30")
    q1, q2 = funnel.campaigns
    assert (q1.name, q1.sent, q1.replied, q1.positive, q1.bounced) == ("Q1 warehouses", 4, 2, 1, 1)
    assert q1.reply_rate == pytest.approx(0.5)
    assert (q2.name, q2.sent, q2.replied, q2.reply_rate) == ("Q2 retail", 1, 0, 0.0)
    sam, kim = funnel.mailboxes
    assert (sam.name, sam.sent) == ("Sam <sam@pickwell.example>", 4)
    assert (kim.name, kim.sent) == ("kim@pickwell.example", 1)


def test_one_campaigns_funnel_counts_only_its_own(workspace, world):
    funnel = reporting.funnel(workspace=workspace, period="30", campaign_id=str(world["q2"].pk))
    stages = _stages(funnel)
    assert funnel.campaign_name == "Q2 retail"
    assert stages["Leads enrolled"][0] == 1
    assert stages["Sent"][0] == 1
    assert stages["Replied"][0] == 0 and stages["Positive replies"] == (0, None)
    assert [row.name for row in funnel.mailboxes] == ["kim@pickwell.example"]


def test_an_empty_workspace_has_no_rates_and_no_errors(workspace):
    funnel = reporting.funnel(workspace=workspace, period="7")
    assert all(stage.count == 0 for stage in funnel.stages)
    assert all(stage.rate is None for stage in funnel.stages)
    assert funnel.bounce_rate is None and funnel.llm_cost_per_email is None
    assert funnel.health_warnings == []


def test_an_unknown_period_is_the_default_and_another_workspaces_campaign_a_400(
    web, workspace, other_workspace
):
    assert reporting.funnel(workspace=workspace, period="forever").period == "30"
    theirs = CampaignFactory(workspace=other_workspace)
    response = web.get("/", {"campaign": str(theirs.pk)})
    assert response.status_code == 400
    assert web.get("/", {"campaign": "not-an-id"}).status_code == 400


def test_the_funnel_costs_the_same_queries_at_any_size(workspace, world):
    with CaptureQueriesContext(connection) as small:
        reporting.funnel(workspace=workspace, period="30")
    q1 = world["q1"]
    step = q1.steps.get()
    mailbox = MailboxFactory(workspace=workspace)
    for _ in range(20):
        _reply(workspace, _sent(workspace, q1, step, mailbox), Reply.Category.INTERESTED)
    with CaptureQueriesContext(connection) as large:
        reporting.funnel(workspace=workspace, period="30")
    assert len(large) == len(small)


def test_the_dashboard_page_shows_the_funnel_breakdowns_and_health(web, workspace, world):
    page = web.get("/", {"period": "30"}).content.decode()
    assert 'data-testid="funnel"' in page
    assert "Positive replies" in page and "50%" in page  # 1 of the 2 who replied
    assert "Q1 warehouses" in page and "Sam &lt;sam@pickwell.example&gt;" in page
    assert 'data-testid="weeks"' in page
    assert "20.0% of sent emails bounced" in page
    one = web.get("/", {"campaign": str(world["q2"].pk)}).content.decode()
    assert "Funnel: Q2 retail" in one and "Leads enrolled" in one


def test_the_weekly_rates_are_drawn_as_lines_from_the_same_numbers_as_the_table(
    web, workspace, world
):
    weeks = reporting.funnel(workspace=workspace, period="all").weeks
    chart = weekly_rates_chart(weeks)
    rated = [w for w in weeks if w.reply_rate is not None]
    assert chart is not None and len(rated) >= 2

    reply, positive = chart.series
    assert len(reply.dots) == len(positive.dots) == len(rated)
    # Oldest on the left; a higher rate is drawn higher (a smaller y).
    xs = [x for x, _, _ in reply.dots]
    assert xs == sorted(xs)
    oldest_first = sorted(rated, key=lambda w: w.starts)
    by_rate = sorted(zip([w.reply_rate for w in oldest_first], reply.dots, strict=True))
    assert [dot[1] for _, dot in by_rate] == sorted((dot[1] for _, dot in by_rate), reverse=True)
    # Each point names its week and value, for a screen reader and a hover.
    first = min(rated, key=lambda w: w.starts)
    assert (
        reply.dots[0][2]
        == f"Reply rate in the week of {first.starts:%Y-%m-%d}: {first.reply_rate:.1%}"
    )

    page = web.get("/", {"period": "all"}).content.decode()
    assert 'data-testid="line-chart"' in page
    assert page.count("<polyline") == len(reply.segments) + len(positive.segments)


def test_no_line_is_drawn_from_a_single_week(workspace):
    assert weekly_rates_chart([]) is None
    one = reporting.Week(starts=timezone.now().date(), sent=3, replied=1, positive=0)
    assert weekly_rates_chart([one]) is None
