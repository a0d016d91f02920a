"""The demo campaign, with its first drafts and a mailbox to send from (idempotent).

The demo mailbox points at loopback; the demo delivers to the console (EMAIL_DELIVERY in
outreach/smtp.py), so `python manage.py dispatch_due` after approving a draft prints it.

Replies (`seed_demo_replies`): the first touches to four leads went out last week, and
the sample raw messages in outreach/demo_replies/ came back (a question, then interest;
an out-of-office, then a referral; an unsubscribe; a hard bounce). They are stored and
read through ingest like any inbound message. The Harbor Health thread of Kevin Brooks is
left alone (only his colleague Daniel's address bounced, which pauses nobody), so the
"approve a draft, dispatch it" walkthrough still has a live thread.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from outreach.campaigns import campaign_create
from outreach.enrollment import campaign_enroll
from outreach.messages import message_draft_by_id
from outreach.models import Campaign, InboundEmail, Mailbox, Message
from sdr.models import Workspace

DEMO_CAMPAIGN: dict[str, Any] = {
    "name": "Warehouse and finance leaders, Q1",
    "product": "Pickwell, pick-to-light carts that make warehouse picking faster",
    "value_propositions": [
        "Cuts picking labour by 30% in the first quarter",
        "Live in six weeks without IT work",
    ],
    "proof_points": ["Used in 40 warehouses across Europe"],
    "call_to_action": "Would a 15-minute call next week be useful?",
    "allowed_links": ["https://pickwell.example"],
    "sender_name": "Sam Reyes",
    "sender_title": "Account Executive",
    "sender_company": "Pickwell",
    "status": Campaign.Status.ACTIVE,
}


DEMO_MAILBOX: dict[str, Any] = {
    "from_name": "Sam Reyes",
    "from_email": "sam@pickwell.example",
    "smtp_host": "127.0.0.1",
    "smtp_port": 1025,
    "smtp_security": Mailbox.Security.NONE,
    "daily_cap": 50,
    "min_interval_seconds": 60,
    "postal_address": "Pickwell Ltd, 1 Dock Road, Leeds LS1 1AA, UK",
    "status": Mailbox.Status.ACTIVE,
}


def seed_demo_mailbox(*, workspace: Workspace) -> Mailbox:
    mailbox = (
        Mailbox.objects.for_workspace(workspace)
        .filter(from_email=DEMO_MAILBOX["from_email"])
        .first()
    )
    if mailbox is None:
        mailbox = Mailbox.objects.for_workspace(workspace).create(
            workspace=workspace, **DEMO_MAILBOX
        )
    return mailbox


def seed_demo_campaign(*, workspace: Workspace) -> Campaign:
    mailbox = seed_demo_mailbox(workspace=workspace)
    campaign = Campaign.objects.for_workspace(workspace).filter(name=DEMO_CAMPAIGN["name"]).first()
    if campaign is not None:
        campaign.mailboxes.add(mailbox)  # a demo seeded before mailboxes existed
        return campaign
    campaign = campaign_create(workspace=workspace, mailboxes=[mailbox], **DEMO_CAMPAIGN)
    campaign_enroll(campaign=campaign, limit=10)
    # Eager in the demo already, but drafting here makes seeding complete on any setup.
    for message in Message.objects.for_workspace(workspace).filter(
        enrollment__campaign=campaign, status=Message.Status.DRAFTING
    ):
        message_draft_by_id(message_id=str(message.pk))
    return campaign


DEMO_REPLIES = Path(__file__).parent / "demo_replies"
# Leads whose first touch the demo treats as sent, with the Message-ID the sample replies
# answer (the .eml files name these ids in In-Reply-To and References).
DEMO_SENT = {
    "priya.nair@northwind-robotics.example": "<demo-priya-1@pickwell.example>",
    "amira@northwind-robotics.example": "<demo-amira-1@pickwell.example>",
    "marc@lumen-ledger.example": "<demo-marc-1@pickwell.example>",
    "daniel@harbor-health-analytics.example": "<demo-daniel-1@pickwell.example>",
}


def seed_demo_replies(*, workspace: Workspace) -> list[InboundEmail]:
    """Send the demo's first touches (as of a week ago) and take in the sample replies."""
    from outreach.replies.ingest import inbound_process, inbound_store

    mailbox = seed_demo_mailbox(workspace=workspace)
    _demo_first_touches_sent(workspace=workspace, mailbox=mailbox)
    stored = []
    for path in sorted(DEMO_REPLIES.glob("*.eml")):
        inbound, created = inbound_store(
            workspace,
            path.read_bytes(),
            source=InboundEmail.Source.DEMO,
            mailbox=mailbox,
            hint=False,
        )
        if created or inbound.status == InboundEmail.Status.RECEIVED:
            inbound_process(inbound_id=inbound.pk)
        stored.append(inbound)
    return stored


def _demo_first_touches_sent(*, workspace: Workspace, mailbox: Mailbox) -> None:
    """Mark the demo leads' first drafts as sent a week ago, with the ids the replies
    answer, and let the sequence follow (the next step's draft, due later)."""
    from outreach.sequences import after_sent

    sent_at = timezone.now() - timedelta(days=7)
    first_touches = (
        Message.objects.for_workspace(workspace)
        .filter(step__order=1, enrollment__lead__email__in=list(DEMO_SENT))
        .exclude(status=Message.Status.SENT)
    )
    for message in first_touches.select_related("enrollment__lead"):
        email = message.enrollment.lead.email
        Message.objects.for_workspace(workspace).filter(pk=message.pk).update(
            status=Message.Status.SENT,
            mailbox=mailbox,
            to_email=email,
            message_id_header=DEMO_SENT[email],
            sent_at=sent_at,
            approved_at=sent_at,
        )
        message.refresh_from_db()
        after_sent(message=message)
    for message in Message.objects.for_workspace(workspace).filter(
        status=Message.Status.DRAFTING, enrollment__lead__email__in=list(DEMO_SENT)
    ):
        message_draft_by_id(message_id=str(message.pk))
