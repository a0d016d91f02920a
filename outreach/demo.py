"""The demo campaign, with its first drafts (idempotent)."""

from __future__ import annotations

from typing import Any

from outreach.campaigns import campaign_create
from outreach.enrollment import campaign_enroll
from outreach.messages import message_draft_by_id
from outreach.models import Campaign, Message
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


def seed_demo_campaign(*, workspace: Workspace) -> Campaign:
    campaign = Campaign.objects.for_workspace(workspace).filter(name=DEMO_CAMPAIGN["name"]).first()
    if campaign is not None:
        return campaign
    campaign = campaign_create(workspace=workspace, **DEMO_CAMPAIGN)
    campaign_enroll(campaign=campaign, limit=10)
    # Eager in the demo already, but drafting here makes seeding complete on any setup.
    for message in Message.objects.for_workspace(workspace).filter(
        enrollment__campaign=campaign, status=Message.Status.DRAFTING
    ):
        message_draft_by_id(message_id=str(message.pk))
    return campaign
