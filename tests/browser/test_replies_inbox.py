"""The replies inbox in a real browser: filter by category, read the thread, correct the
category, edit and send the suggested answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.models import Campaign, Message, Reply
from outreach.replies.handling import reply_category_set, reply_handle
from outreach.replies.parsing import Bounced, ParsedEmail
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    EnrollmentFactory,
    InboundEmailFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    ReplyFactory,
    SequenceStepFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def thread_with_reply(workspace, *, first_name, email, text, **reply_fields):
    company = CompanyFactory(workspace=workspace, domain=email.split("@")[1])
    mailbox = MailboxFactory(workspace=workspace)
    campaign = CampaignFactory(
        workspace=workspace,
        name="Warehouse leaders",
        status=Campaign.Status.ACTIVE,
        call_to_action="Would a 15-minute call next week be useful?",
        sender_name="Sam",
    )
    step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    lead = LeadFactory(workspace=workspace, company=company, email=email, first_name=first_name)
    enrollment = EnrollmentFactory(
        workspace=workspace, campaign=campaign, lead=lead, mailbox=mailbox
    )
    sent = MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.SENT,
        subject="Picking routes",
        body="Hi, a short note about picking routes.",
        message_id_header=f"<sent-{first_name}@pickwell.example>",
        sent_at=timezone.now() - timedelta(days=1),
        mailbox=mailbox,
    )
    return ReplyFactory(
        workspace=workspace,
        inbound=InboundEmailFactory(workspace=workspace),
        lead=lead,
        enrollment=enrollment,
        message=sent,
        from_email=email,
        from_name=first_name,
        text=text,
        visible_text=text,
        category=Reply.Category.OTHER,
        confidence=0.0,
        **reply_fields,
    )


def test_the_inbox_filters_a_category_is_corrected_and_the_answer_is_sent(
    signed_in_page, workspace, member
):
    interested = thread_with_reply(
        workspace,
        first_name="Dana",
        email="dana@northwind.example",
        text="Sounds useful <b>really</b>. What would a pilot look like?",
    )
    reply_category_set(reply=interested, category="interested")
    bounce = thread_with_reply(
        workspace, first_name="Robin", email="robin@southwind.example", text="Delivery failed"
    )
    reply_handle(
        bounce,
        ParsedEmail(is_bounce=True, bounced=[Bounced("robin@southwind.example", permanent=True)]),
    )
    page = signed_in_page

    page.goto("/")
    page.get_by_role("link", name="Replies").click()
    rows = page.get_by_test_id("reply-list").locator("tbody tr")
    assert rows.count() == 2
    page.locator("[data-category=interested]").click()
    page.wait_for_url("**/replies/?category=interested")
    assert rows.count() == 1
    assert page.get_by_test_id("category").inner_text() == "Interested"
    assert "Interested 1" in page.get_by_test_id("reply-filters").inner_text()

    page.get_by_role("link", name="Dana", exact=True).click()
    thread = page.get_by_test_id("thread")
    assert "We wrote" in thread.inner_text() and "Picking routes" in thread.inner_text()
    # The prospect's markup is shown as text, never rendered.
    assert "<b>really</b>" in thread.inner_text()
    assert page.locator("[data-testid=thread] b").count() == 0

    page.get_by_label("This reply is").select_option(label="Meeting request")
    page.get_by_label("Note").fill("asks for a pilot call")
    page.get_by_role("button", name="Set category").click()
    page.get_by_test_id("reply-category").filter(has_text="Meeting request").wait_for()
    assert "Category corrected" in page.get_by_test_id("reply-actions").inner_text()

    body = page.get_by_label("Answer")
    assert body.input_value().startswith("Hi Dana,")
    body.fill("Hi Dana,\n\nA pilot takes two weeks. Does Tuesday work?\n\nSam")
    page.get_by_role("button", name="Send").click()
    page.get_by_test_id("answer-status").filter(has_text="Answer approved").wait_for()

    answer = Message.objects.for_workspace(workspace).get(kind=Message.Kind.ANSWER)
    assert answer.status == Message.Status.APPROVED
    assert answer.body.startswith("Hi Dana,\n\nA pilot takes two weeks.")
    assert answer.in_reply_to == f"<{interested.message_id_header}>"
    assert answer.reviewed_by == member
