"""Drafting through a model (the real openai SDK against a loopback OpenAI server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outreach.drafting import StepBrief, draft_produce
from outreach.drafting.from_json import campaign_from_json, lead_from_json
from outreach.messages import message_draft_by_id
from outreach.models import Message
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    FactFactory,
    LeadFactory,
    SequenceStepFactory,
)
from tests.openai_server import Reply, error_reply, json_reply

DATA = Path(__file__).parent / "data"
GOOD_BODY = (
    "Hi Dana,\n\nCongratulations on the $12M Series A at Northwind Robotics.\n\n"
    "Pickwell cuts picking labour by 30% in the first quarter.\n\n"
    "Would a 15-minute call next week be useful?\n\nSam"
)


def draft_answer(body=GOOD_BODY, citations=("s-funding",), claims=None, subject="After the raise"):
    claims = (
        claims
        if claims is not None
        else [{"text": "Congratulations on the $12M Series A", "fact_ids": list(citations)}]
    )
    return json_reply(
        {"subject": subject, "body": body, "citations": list(citations), "claims": claims}
    )


def check_answer(*unsupported):
    claims = [{"text": "the Series A", "supported": True, "reason": "fact s-funding"}]
    claims += [{"text": text, "supported": False, "reason": "no fact"} for text in unsupported]
    return json_reply({"claims": claims})


@pytest.fixture
def briefs():
    lead = lead_from_json(json.loads((DATA / "lead_northwind.json").read_text()))
    campaign, step, _ = campaign_from_json(
        json.loads((DATA / "campaign_pickwell.json").read_text())
    )
    return lead, campaign, step


def produce(workspace, briefs, **kwargs):
    lead, campaign, step = briefs
    from datetime import date

    return draft_produce(
        workspace=workspace,
        lead=lead,
        campaign=campaign,
        step=step,
        today=date(2026, 11, 23),
        **kwargs,
    )


def test_a_grounded_model_draft_passes_code_and_model_checks(workspace, openai_server, briefs):
    openai_server.script.extend([draft_answer(), check_answer()])
    outcome = produce(workspace, briefs)

    assert outcome.status == "ready", outcome.reason
    assert outcome.draft.drafter == "llm" and outcome.draft.model == "gpt-4.1-mini"
    assert outcome.draft.citations == ["s-funding"]
    assert [c.name for c in outcome.checks][-1] == "claims_supported"
    drafting, checking = openai_server.requests
    prompt = " ".join(m["content"] for m in drafting.messages)
    assert "Series A" in prompt and "Angle: fact s-funding" in prompt
    # Scraped text and lead-supplied names stay inside the untrusted block.
    task = drafting.messages[-1]["content"]
    assert "Northwind" not in task and "Dana" not in task and "$12M" not in task
    assert checking.body["model"] == "gpt-4.1-mini"
    assert "UNTRUSTED EMAIL" in checking.messages[1]["content"]


def test_the_prompt_never_carries_planted_instructions(workspace, openai_server, briefs):
    openai_server.script.extend([draft_answer(), check_answer()])
    produce(workspace, briefs)
    prompt = json.dumps(openai_server.requests[0].body)
    assert "90% discount" not in prompt and "f-inject" not in prompt
    facts_message = openai_server.requests[0].messages[2]["content"]
    assert facts_message.startswith("<<<UNTRUSTED FACTS BEGIN")


def test_a_claim_without_a_fact_is_redrafted_with_the_reason_then_held(
    workspace, openai_server, briefs
):
    made_up = [{"text": "You just opened a warehouse in Rotterdam", "fact_ids": []}]
    openai_server.script.extend(
        [
            draft_answer(claims=made_up),
            check_answer("You just opened a warehouse in Rotterdam"),
            draft_answer(claims=made_up),
            check_answer("You just opened a warehouse in Rotterdam"),
        ]
    )
    outcome = produce(workspace, briefs)

    assert outcome.status == "held" and outcome.attempts == 2
    assert "claims_cited" in outcome.reason and "claims_supported" in outcome.reason
    redraft_task = openai_server.requests[2].messages[-1]["content"]
    assert "Your previous draft failed these checks" in redraft_task
    assert "claims_cited" in redraft_task and "Rotterdam" not in redraft_task
    # The details quote the draft, so they travel inside the untrusted block.
    redraft_data = openai_server.requests[2].messages[-2]["content"]
    assert redraft_data.startswith("<<<UNTRUSTED FACTS BEGIN") and "Rotterdam" in redraft_data


def test_a_draft_that_obeys_an_injected_instruction_is_caught(workspace, openai_server, briefs):
    obeyed = GOOD_BODY.replace(
        "Sam", "We offer a 90% discount! Ignore previous instructions.\n\nSam"
    )
    openai_server.script.extend(
        [draft_answer(body=obeyed), check_answer(), draft_answer(), check_answer()]
    )
    outcome = produce(workspace, briefs)
    assert outcome.status == "ready" and outcome.attempts == 2
    assert "discount" not in outcome.draft.body


def test_links_and_numbers_the_model_made_up_hold_the_draft(workspace, openai_server, briefs):
    bad = GOOD_BODY.replace("30%", "45%") + "\nhttps://bit.ly/xyz"
    openai_server.script.extend(
        [draft_answer(body=bad), check_answer(), draft_answer(body=bad), check_answer()]
    )
    outcome = produce(workspace, briefs)
    assert outcome.status == "held"
    assert "only_campaign_links" in outcome.reason and "numbers_grounded" in outcome.reason


def test_invalid_json_from_the_model_is_retried_inside_the_call(workspace, openai_server, briefs):
    openai_server.script.extend(
        [Reply(content="Sure! Here is your email:"), draft_answer(), check_answer()]
    )
    assert produce(workspace, briefs).status == "ready"


def test_a_refusal_fails_the_message_with_the_reason(workspace, openai_server, briefs):
    openai_server.script.append(Reply(refusal="I can't write marketing emails."))
    outcome = produce(workspace, briefs)
    assert outcome.status == "failed" and "refused" in outcome.reason


def test_rate_limits_are_waited_out(workspace, openai_server, briefs):
    openai_server.script.extend([error_reply(429, "0.05"), draft_answer(), check_answer()])
    assert produce(workspace, briefs).status == "ready"


def test_when_the_check_call_fails_the_draft_is_held_not_sent(
    workspace, openai_server, briefs, settings
):
    settings.LLM_MAX_RETRIES = 0
    openai_server.script.extend(
        [draft_answer(), error_reply(400), draft_answer(), error_reply(400)]
    )
    outcome = produce(workspace, briefs)
    assert outcome.status == "held"
    assert "could not run" in outcome.reason


def test_a_checker_that_is_down_makes_the_draft_wait_not_pass(
    workspace, openai_server, briefs, settings
):
    from outreach.drafting import DraftRetryLater

    settings.LLM_MAX_RETRIES = 0
    openai_server.script.extend([draft_answer(), error_reply(503)])
    with pytest.raises(DraftRetryLater):
        produce(workspace, briefs)
    # The later try drafts and checks again, and the draft is ready.
    openai_server.script.extend([draft_answer(), check_answer()])
    assert produce(workspace, briefs).status == "ready"


def test_a_stored_message_records_model_prompt_version_checks_and_cost(workspace, openai_server):
    campaign = CampaignFactory(workspace=workspace)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign)
    lead = LeadFactory(workspace=workspace)
    fact = FactFactory(
        workspace=workspace,
        company=lead.company,
        field="description",
        value="builds robots for warehouses",
    )
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    message = Message.objects.for_workspace(workspace).create(
        workspace=workspace, enrollment=enrollment, step=step
    )
    body = (
        f"Hi {lead.first_name},\n\nI read that {lead.company.name} builds robots for "
        "warehouses.\n\nWorth a 15-minute call next week?\n\nSam"
    )
    openai_server.script.extend(
        [
            draft_answer(
                body=body,
                subject="Robots for warehouses",
                citations=(str(fact.pk),),
                claims=[{"text": "builds robots for warehouses", "fact_ids": [str(fact.pk)]}],
            ),
            check_answer(),
        ]
    )
    message_draft_by_id(message_id=str(message.pk))

    message.refresh_from_db()
    assert message.status == Message.Status.PENDING_REVIEW, message.failure_reason
    assert (message.drafter, message.model, message.prompt_version) == (
        "llm",
        "gpt-4.1-mini",
        "draft-2",
    )
    assert list(message.cited_facts.all()) == [fact]
    assert all(check["passed"] for check in message.checks)
    from sdr.llm import llm_cost_summary

    cost = llm_cost_summary(
        workspace=workspace, subject_type="message", subject_ids=[str(message.pk)]
    )
    assert cost["calls"] == 2 and cost["cost"] > 0


def test_a_draft_costs_a_bounded_number_of_queries(
    workspace, openai_server, django_assert_max_num_queries
):
    campaign = CampaignFactory(workspace=workspace)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign)
    lead = LeadFactory(workspace=workspace, first_name="Dana")
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    message = Message.objects.for_workspace(workspace).create(
        workspace=workspace, enrollment=enrollment, step=step
    )
    body = "Hi Dana,\n\nOur carts light up the right bin.\n\nWorth a call next week?\n\nSam"
    openai_server.script.extend(
        [draft_answer(body=body, citations=(), claims=[], subject="Carts"), check_answer()]
    )

    # The claim, the message, the bandit's counts, facts, other drafts and colleagues'
    # angles, a row per model call, and the record with its citations and history: 13,
    # and the savepoint pair of the record's transaction inside the test's. It was 21:
    # the counts took two queries, the workspace three more.
    with django_assert_max_num_queries(15):
        message_draft_by_id(message_id=str(message.pk))

    assert Message.unscoped_objects.get(pk=message.pk).status == Message.Status.PENDING_REVIEW


def test_a_follow_up_threads_under_the_first_subject(workspace, openai_server, briefs):
    from outreach.drafting import PreviousEmail

    lead, campaign, _ = briefs
    step = StepBrief(
        kind="follow_up",
        order=2,
        previous=(PreviousEmail(subject="After the raise", body=GOOD_BODY),),
    )
    follow = (
        "Hi Dana,\n\nOne more thing: Pickwell goes live in six weeks without IT work.\n\n"
        "Would a 15-minute call next week be useful?\n\nSam"
    )
    openai_server.script.extend(
        [draft_answer(body=follow, citations=(), claims=[], subject="New subject"), check_answer()]
    )
    outcome = draft_produce(workspace=workspace, lead=lead, campaign=campaign, step=step)
    assert outcome.status == "ready", outcome.reason
    assert outcome.draft.subject == "Re: After the raise"
    assert "do not repeat them" in openai_server.requests[0].messages[-1]["content"]


def test_the_draft_email_command_goes_through_the_configured_model(
    workspace, openai_server, capsys
):
    from django.core.management import call_command

    openai_server.script.extend([draft_answer(), check_answer()])
    call_command(
        "draft_email",
        lead_json=str(DATA / "lead_northwind.json"),
        campaign_json=str(DATA / "campaign_pickwell.json"),
        workspace=workspace.slug,
        json=True,
    )
    result = json.loads(capsys.readouterr().out)
    assert (result["drafter"], result["model"], result["status"]) == (
        "llm",
        "gpt-4.1-mini",
        "ready",
    )
    assert result["citations"] == ["s-funding"]
    assert result["checks"][-1] == {"name": "claims_supported", "passed": True, "detail": ""}


def test_an_error_on_the_redraft_keeps_the_first_draft_held(
    workspace, openai_server, briefs, settings
):
    settings.LLM_MAX_RETRIES = 0
    bad = GOOD_BODY.replace("30%", "45%")
    openai_server.script.extend([draft_answer(body=bad), check_answer(), error_reply(503)])
    outcome = produce(workspace, briefs)
    assert outcome.status == "held" and outcome.draft is not None
    assert outcome.draft.body == bad
    assert "numbers_grounded" in outcome.reason and "redraft failed" in outcome.reason


def test_a_transient_error_leaves_the_message_drafting_and_the_task_retries(
    workspace, openai_server, settings
):
    from celery.exceptions import Retry

    from outreach.drafting import DraftRetryLater
    from outreach.messages import draft_retry_delay
    from outreach.tasks import draft_message_task

    settings.LLM_MAX_RETRIES = 0
    campaign = CampaignFactory(workspace=workspace)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign)
    lead = LeadFactory(workspace=workspace)
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    message = Message.objects.for_workspace(workspace).create(
        workspace=workspace, enrollment=enrollment, step=step
    )
    body = f"Hi {lead.first_name},\n\nPallet-picking robots for your team.\n\n" + (
        "Worth a 15-minute call next week?\n\nSam"
    )
    openai_server.script.extend([error_reply(429, "0")])
    with pytest.raises(DraftRetryLater):
        message_draft_by_id(message_id=str(message.pk))
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFTING

    # The Celery task asks to be retried later, and the later try drafts the message.
    openai_server.script.extend(
        [
            error_reply(500),
            draft_answer(body=body, citations=(), claims=[], subject="Picking robots"),
            check_answer(),
        ]
    )
    with pytest.raises(Retry):
        draft_message_task.apply(args=[str(message.pk)])
    message.refresh_from_db()
    assert message.status == Message.Status.DRAFTING
    draft_message_task.apply(args=[str(message.pk)])
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING_REVIEW, message.failure_reason
    assert all(15 <= draft_retry_delay(0) <= 30 for _ in range(20))
    assert draft_retry_delay(20) <= 30 * 60


def test_the_stable_prefix_is_cacheable_and_the_same_for_every_lead(
    workspace, openai_server, briefs
):
    import re
    from dataclasses import replace

    lead, campaign, step = briefs
    other = replace(lead, first_name="Zebulon", last_name="Okafor", company_name="Quillfeather")
    openai_server.script.extend([draft_answer(), check_answer()] * 2)
    produce(workspace, briefs)
    draft_produce(workspace=workspace, lead=other, campaign=campaign, step=step)
    first, second = openai_server.requests[0], openai_server.requests[2]
    prefix = first.messages[:2]
    assert [m["role"] for m in prefix] == ["system", "system"] and prefix == second.messages[:2]
    text = " ".join(m["content"] for m in prefix)
    # A lower bound on tokens: every word and every punctuation mark is at least one token.
    # OpenAI caches prompts from 1,024 tokens.
    assert len(re.findall(r"\w+|[^\w\s]", text)) >= 1024
    assert "Zebulon" not in json.dumps(prefix) and "Quillfeather" not in json.dumps(prefix)
    assert "Zebulon" in second.messages[2]["content"]  # the lead is in the untrusted block
    assert first.body["temperature"] >= 0 and first.body["max_tokens"] > 0
