"""Drafting without a model: grounded, checked, and labelled as offline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from outreach.drafting import PreviousEmail, StepBrief, draft_produce
from outreach.drafting.from_json import BriefError, campaign_from_json, lead_from_json

DATA = Path(__file__).parent / "data"
TODAY = date(2026, 11, 23)


@pytest.fixture
def lead():
    return lead_from_json(json.loads((DATA / "lead_northwind.json").read_text()))


@pytest.fixture
def campaign():
    brief, _, _ = campaign_from_json(json.loads((DATA / "campaign_pickwell.json").read_text()))
    return brief


def test_a_first_touch_opens_on_the_freshest_signal_and_cites_it(workspace, lead, campaign):
    outcome = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=StepBrief(), today=TODAY
    )

    assert outcome.status == "ready", outcome.reason
    draft = outcome.draft
    assert draft.drafter == "offline"
    assert draft.citations == ["s-funding"]
    assert "Series A" in draft.body and draft.body.startswith("Hi Dana,")
    assert campaign.call_to_action in draft.body
    assert len(draft.body.split()) <= campaign.max_words_first_touch


def test_an_instruction_planted_in_scraped_text_changes_nothing(workspace, lead, campaign):
    outcome = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=StepBrief(), today=TODAY
    )
    assert "discount" not in outcome.draft.body.lower()
    assert "f-inject" not in outcome.draft.citations


def test_without_a_fresh_signal_it_falls_back_to_what_the_company_does(workspace, lead, campaign):
    later = date(2027, 9, 1)  # the funding round is no longer news
    outcome = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=StepBrief(), today=later
    )
    assert outcome.draft.citations == ["f-desc"]
    assert "autonomous pallet movers" in outcome.draft.body


def test_a_follow_up_threads_and_says_something_new(workspace, lead, campaign):
    first = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=StepBrief(), today=TODAY
    ).draft
    step = StepBrief(
        kind="follow_up", order=2, previous=(PreviousEmail(subject=first.subject, body=first.body),)
    )
    outcome = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=step, today=TODAY
    )
    assert outcome.status == "ready", outcome.reason
    assert outcome.draft.subject == f"Re: {first.subject}"
    assert "six weeks" in outcome.draft.body


def test_a_generic_draft_that_copies_another_is_held_with_the_reason(workspace, campaign):
    bare = lead_from_json({"first_name": "Robin", "title": "COO"})
    first = draft_produce(workspace=workspace, lead=bare, campaign=campaign, step=StepBrief())
    twin = lead_from_json({"first_name": "Robin", "title": "COO"})
    outcome = draft_produce(
        workspace=workspace,
        lead=twin,
        campaign=campaign,
        step=StepBrief(),
        other_bodies=[first.draft.body],
    )
    assert outcome.status == "held"
    assert "not_near_duplicate" in outcome.reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"title": "CEO"}, "first_name is required"),
        ({"first_name": "A", "facts": [{"id": "x"}]}, "facts[0] needs id, field and value"),
        (
            {
                "first_name": "A",
                "signals": [
                    {"id": "s", "kind": "funding", "title": "t", "happened_on": "last week"}
                ],
            },
            "must be a date",
        ),
        ({"first_name": "A", "facts": "lots"}, "facts must be a list"),
    ],
)
def test_a_malformed_lead_is_rejected_with_every_reason(data, message):
    with pytest.raises(BriefError, match=message.replace("[", r"\[").replace("]", r"\]")):
        lead_from_json(data)


def test_a_malformed_campaign_is_rejected_with_every_reason():
    with pytest.raises(BriefError) as error:
        campaign_from_json({"value_propositions": "fast", "step": {"kind": "poem"}})
    text = str(error.value)
    for problem in (
        "product is required",
        "call_to_action is required",
        "value_propositions must be a list",
        "step.kind must be",
    ):
        assert problem in text


def test_the_draft_email_command_prints_the_draft_and_its_checks(workspace, capsys, settings):
    call_command(
        "draft_email",
        lead_json=str(DATA / "lead_northwind.json"),
        campaign_json=str(DATA / "campaign_pickwell.json"),
        workspace=workspace.slug,
        json=True,
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"subject", "body", "citations", "checks", "status"}
    assert result["drafter"] == "offline"
    assert all(set(check) == {"name", "passed", "detail"} for check in result["checks"])
    assert result["status"] == ("ready" if all(c["passed"] for c in result["checks"]) else "held")


def test_the_draft_email_command_reports_bad_files(workspace, tmp_path):
    broken = tmp_path / "lead.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="is not valid JSON"):
        call_command(
            "draft_email",
            lead_json=str(broken),
            campaign_json=str(DATA / "campaign_pickwell.json"),
            workspace=workspace.slug,
        )
    with pytest.raises(CommandError, match="No such file"):
        call_command(
            "draft_email",
            lead_json=str(tmp_path / "missing.json"),
            campaign_json=str(DATA / "campaign_pickwell.json"),
            workspace=workspace.slug,
        )


def _shared_line_share(bodies: list[str]) -> float:
    """The median share of an email's lines that every email of the campaign has."""
    import statistics

    line_sets = [{line.strip() for line in b.splitlines() if line.strip()} for b in bodies]
    everywhere = set.intersection(*line_sets)
    shares = [
        sum(1 for line in b.splitlines() if line.strip() in everywhere)
        / max(1, sum(1 for line in b.splitlines() if line.strip()))
        for b in bodies
    ]
    return statistics.median(shares)


def test_the_demo_drafts_read_like_a_person_wrote_them(db, settings, capsys):
    from outreach.models import Campaign, Message
    from sdr.models import Workspace

    settings.DEMO_SITES_PORT = 18141  # clear of a demo someone may be running
    call_command("seed_demo")
    workspace = Workspace.objects.get(slug="demo")
    campaign = Campaign.objects.for_workspace(workspace).get()
    messages = list(
        Message.objects.for_workspace(workspace)
        .filter(enrollment__campaign=campaign, step__order=1)
        .exclude(body="")
    )
    assert len(messages) >= 5
    share = _shared_line_share([m.body for m in messages])
    with capsys.disabled():
        print(f"\ndemo first touches: {len(messages)}, median shared-line share {share:.0%}")
        for m in messages[:4]:
            print(f"--- [{m.status}] {m.subject}\n{m.body}")
    assert share <= 0.45  # it was 69% before issue #10
    subjects = [m.subject for m in messages]
    assert all(2 <= len(s.split()) <= 5 for s in subjects), subjects
    # No cut-off product sentence, no capitalize() lowering a name.
    assert not any(":" in s or s != s[:1] + s[1:] for s in subjects), subjects
    assert len(set(subjects)) > len(subjects) // 2
    for message in messages:
        assert " was appointed" not in message.body and ": Wholesale." not in message.body
    # Follow-ups differ lead to lead as first touches do: none is held as a near-copy.
    follow_ups = list(
        Message.objects.for_workspace(workspace)
        .filter(enrollment__campaign=campaign, step__order=2)
        .exclude(body="")
    )
    assert follow_ups
    copies = [
        m.subject
        for m in follow_ups
        if any(c["name"] == "not_near_duplicate" and not c["passed"] for c in m.checks)
    ]
    assert not copies, copies
    assert all(m.status != Message.Status.HELD for m in follow_ups), [
        (m.subject, m.failure_reason, [c for c in m.checks if not c["passed"]]) for m in follow_ups
    ]
