"""The demo campaign, with its first drafts and a mailbox to send from (idempotent).

The demo mailbox points at loopback; the demo delivers to the console (EMAIL_DELIVERY in
outreach/smtp.py), so `python manage.py dispatch_due` after approving a draft prints it.
"""

from __future__ import annotations

from typing import Any

from outreach.campaigns import campaign_create
from outreach.enrollment import campaign_enroll
from outreach.messages import message_draft_by_id
from outreach.models import Campaign, Mailbox, Message
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
