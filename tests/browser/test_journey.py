"""The whole loop a seller runs, in a real browser (issue 14): sign in, import a CSV,
research the company, add the lead to a campaign from the leads list, approve the draft
with the keyboard, see it sent (to a real SMTP server on loopback), see the reply
classified, and the outcome on the billing page.

What a person does goes through the browser. What the product's schedule does (the
dispatcher's pass, the mailbox receiving the reply) is called here as its task would,
with the clock passed in: the send window opens on a Monday morning."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest

from leads.models import Lead
from outreach.dispatch import dispatch_due
from outreach.models import Campaign, InboundEmail, Message
from outreach.replies.ingest import inbound_store
from tests.factories import CampaignFactory, CompanyFactory, MailboxFactory, SequenceStepFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE = Path(__file__).resolve().parents[2] / "leads" / "demo_sites" / "northwind-robotics"
MONDAY_MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


@pytest.fixture
def outreach_ready(workspace, smtp_server, http_server, settings):
    """What a workspace has set up before the day starts: the company known with its
    website (as a CRM sync leaves it), a mailbox, an active campaign."""
    settings.FETCH_POLITENESS_DELAY = 0
    settings.EMAIL_DELIVERY = "smtp"
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    http_server.serve_directory("/", SITE)
    CompanyFactory(
        workspace=workspace,
        domain="northwind-robotics.example",
        name="Northwind Robotics",
        website=http_server.url("/"),
    )
    mailbox = MailboxFactory(
        workspace=workspace,
        smtp_port=smtp_server.port,
        from_name="Sam Seller",
        from_email="sam@pickwell.example",
    )
    campaign = CampaignFactory(
        workspace=workspace, name="Warehouse leaders", status=Campaign.Status.ACTIVE
    )
    for order, kind in [(1, "first_touch"), (2, "follow_up")]:
        SequenceStepFactory(workspace=workspace, campaign=campaign, order=order, kind=kind)
    campaign.mailboxes.add(mailbox)
    return campaign


def test_a_lead_goes_from_a_csv_to_a_billed_positive_reply(
    signed_in_page, workspace, outreach_ready, smtp_server, tmp_path
):
    page = signed_in_page

    # Import the CSV.
    file = tmp_path / "leads.csv"
    file.write_text(
        "Email,First Name,Last Name,Job Title,Company\n"
        "priya@northwind-robotics.example,Priya,Nair,VP of Sales,Northwind Robotics\n"
    )
    page.goto("/leads/imports/")
    page.set_input_files("input[type=file]", str(file))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Start import").click()
    page.get_by_test_id("import-status").filter(has_text="Done").wait_for()

    # Research the company from its page.
    page.goto("/leads/")
    page.get_by_role("link", name="Northwind Robotics").click()
    page.get_by_role("button", name="Enrich now").click()
    page.get_by_test_id("enrich-status").filter(has_text="Done").wait_for()
    page.reload()
    assert "Industrial automation" in page.locator("table.facts").inner_text()

    # Add the lead to the campaign from the leads list: the draft is written.
    page.goto("/leads/")
    page.get_by_label("Select Priya Nair").check()
    page.get_by_label("Campaign to add them to").select_option(label="Warehouse leaders")
    page.get_by_role("button", name="Add to campaign").click()
    page.get_by_text("Added 1 lead to the campaign").wait_for()
    message = Message.objects.for_workspace(workspace).get()
    assert message.status == Message.Status.PENDING_REVIEW, message.checks

    # Approve it with the keyboard in the review queue.
    page.goto("/review/")
    page.locator("#draft-subject").wait_for()
    page.keyboard.press("a")
    page.get_by_text("Approved.").wait_for()
    message.refresh_from_db()
    assert message.status == Message.Status.APPROVED

    # Monday morning: the dispatcher's pass sends it from the mailbox.
    dispatch_due(now=MONDAY_MORNING)
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    (received,) = smtp_server.received
    assert received.rcpt_tos == ["priya@northwind-robotics.example"]
    assert received.message["Subject"] == message.subject
    page.goto(f"/leads/{message.enrollment.lead_id}/")
    assert "Email sent" in page.get_by_test_id("lead-timeline").inner_text()

    # Priya answers; the mailbox hands the reply over.
    reply = (
        "From: Priya Nair <priya@northwind-robotics.example>\r\n"
        "To: Sam Seller <sam@pickwell.example>\r\n"
        f"Subject: Re: {message.subject}\r\n"
        f"Date: {format_datetime(MONDAY_MORNING)}\r\n"
        "Message-ID: <answer-1@northwind-robotics.example>\r\n"
        f"In-Reply-To: {message.message_id_header}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Hi Sam, yes, this is interesting. Can we talk on Tuesday at 10?\r\n"
    ).encode()
    inbound_store(workspace, reply, source=InboundEmail.Source.FILE)
    page.goto("/replies/")
    category = page.get_by_test_id("reply-list").get_by_test_id("category").inner_text()
    assert category in {"Interested", "Meeting request"}
    lead = Lead.objects.for_workspace(workspace).get(email="priya@northwind-robotics.example")
    assert lead.status == Lead.Status.REPLIED
    page.goto(f"/leads/{lead.pk}/")
    timeline = page.get_by_test_id("lead-timeline").inner_text()
    assert "Reply received" in timeline and category in timeline

    # The positive reply is an outcome on the bill (billing off: the ledger still shows it).
    page.get_by_role("link", name="Billing").click()
    events = page.get_by_test_id("billing-events").inner_text()
    assert "Positive reply" in events and "priya@northwind-robotics.example" in events
