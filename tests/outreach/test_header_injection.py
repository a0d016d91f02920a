"""A company name with CR/LF can never become an email header (issue 15).

Drafting: the checks fail a subject that could not be a header, so the draft is held;
review: approving or editing cannot store one; sending: the MIME builder refuses it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from outreach import review
from outreach.drafting import StepBrief, draft_produce
from outreach.drafting.briefs import CampaignBrief, Draft, LeadBrief
from outreach.drafting.from_json import campaign_from_json, lead_from_json
from outreach.drafting.verify import draft_verify
from outreach.mime import UnsafeMessage, outgoing_build
from outreach.models import Message
from sdr.errors import AppError
from tests.factories import MailboxFactory, MessageFactory

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
LATER = date(2027, 9, 1)  # no fresh signal: the subject names the company
HOSTILE_NAMES = [
    "Northwind\r\nBcc: everyone@victim.example",
    "Northwind\nX-Injected: 1",
    "Northwind\x00Robotics",
    "Northwind\u2028Robotics",
]
# PostgreSQL stores no NUL: the names a stored message can carry.
STORABLE_NAMES = [n for n in HOSTILE_NAMES if "\x00" not in n]


def hostile_lead(name: str) -> LeadBrief:
    data = json.loads((DATA / "lead_northwind.json").read_text())
    data["company"]["name"] = name
    return lead_from_json(data)


@pytest.fixture
def campaign() -> CampaignBrief:
    brief, _, _ = campaign_from_json(json.loads((DATA / "campaign_pickwell.json").read_text()))
    return brief


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_company_name_with_a_line_break_holds_the_offline_draft(workspace, campaign, name):
    outcome = draft_produce(
        workspace=workspace,
        lead=hostile_lead(name),
        campaign=campaign,
        step=StepBrief(),
        today=LATER,
    )

    # Issue #10: a company name that is not a name is never used as one, so the injected
    # header never reaches the subject; were it used, the subject check would hold it.
    failed = {check.name for check in outcome.failed_checks}
    assert outcome.draft is not None
    assert "subject_is_a_header" in failed or name not in outcome.draft.subject
    assert not any(part in outcome.draft.subject for part in ("Bcc", "X-Injected", "\x00"))


def test_a_clean_company_name_passes_the_subject_check(workspace, campaign):
    outcome = draft_produce(
        workspace=workspace,
        lead=hostile_lead("Northwind Robotics"),
        campaign=campaign,
        step=StepBrief(),
        today=LATER,
    )
    assert "Northwind Robotics" in outcome.draft.subject
    assert outcome.status == "ready", outcome.reason


def test_the_subject_check_reads_the_subject_not_the_body(workspace, campaign):
    lead = hostile_lead("Northwind")
    outcome = draft_produce(
        workspace=workspace, lead=lead, campaign=campaign, step=StepBrief(), today=LATER
    )
    draft: Draft = replace(outcome.draft, subject="Hello", body=outcome.draft.body + "\nPS\r\n")
    checks = {
        c.name: c for c in draft_verify(draft=draft, lead=lead, campaign=campaign, step=StepBrief())
    }
    assert checks["subject_is_a_header"].passed


# -- review: approval and edits cannot store one --------------------------------------------


@pytest.mark.parametrize("subject", STORABLE_NAMES)
def test_a_held_draft_with_such_a_subject_cannot_be_approved_even_confirmed(
    workspace, member, subject
):
    message = MessageFactory(workspace=workspace, status=Message.Status.HELD, subject=subject)
    with pytest.raises(AppError, match="subject"):
        review.message_approve(message=message, user=member, confirm_held=True)
    message.refresh_from_db()
    assert message.status == Message.Status.HELD


def test_an_edit_cannot_put_a_line_break_into_the_subject(workspace, member):
    message = MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    with pytest.raises(AppError, match="subject"):
        review.message_save_edit(message=message, user=member, subject="Hi\r\nBcc: x@y.example")
    with pytest.raises(AppError, match="subject"):
        review.message_approve(message=message, user=member, subject="Hi\nBcc: x@y.example")


def test_the_api_answers_an_injected_subject_with_a_400(api, workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    response = api.post(
        f"/api/v1/messages/{message.pk}/approve/",
        {"subject": "Hi\r\nBcc: x@y.example"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    message.refresh_from_db()
    assert message.status == Message.Status.PENDING_REVIEW


def test_a_subject_edited_in_the_browser_with_a_crlf_is_refused_not_stored(web, workspace):
    message = MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    web.post(
        f"/review/{message.pk}/act/",
        {"action": "approve", "subject": "Hi\r\nBcc: x@y.example", "body": message.body},
    )
    message.refresh_from_db()
    assert "\n" not in message.subject and message.status == Message.Status.PENDING_REVIEW


# -- sending: the MIME builder refuses every header ------------------------------------------


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"


@pytest.fixture
def mailbox(workspace):
    return MailboxFactory(workspace=workspace, from_email="sam@pickwell.example")


@pytest.mark.parametrize("name", STORABLE_NAMES)
def test_mime_refuses_a_stored_subject_with_the_company_name(workspace, mailbox, name):
    message = MessageFactory(
        workspace=workspace, status=Message.Status.SENDING, mailbox=mailbox, subject=f"Hi {name}"
    )
    with pytest.raises(UnsafeMessage, match="subject"):
        outgoing_build(message=message, mailbox=mailbox, recipient="dana@acme.example", now=NOW)


def test_mime_refuses_threading_ids_with_line_breaks(workspace, mailbox, settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    message = MessageFactory(
        workspace=workspace,
        status=Message.Status.SENDING,
        mailbox=mailbox,
        message_id_header="<a@x.example>\r\nBcc: x@victim.example",
    )
    with pytest.raises(UnsafeMessage):
        outgoing_build(
            message=message,
            mailbox=mailbox,
            recipient="dana@acme.example",
            now=NOW,
        )
