"""A status change locks its row FOR NO KEY UPDATE, never FOR UPDATE: a concurrent commit
that inserts a row pointing at it (an enrollment into a campaign, a feedback on a message,
any row of the workspace) holds KEY SHARE on it while it checks the foreign key, and FOR
UPDATE would wait for that commit, or deadlock with it. Each test holds that KEY SHARE from
another connection and acts under a lock timeout: a wait fails the test instead of hanging.
"""

from __future__ import annotations

import pytest
from django.http import QueryDict

from leads.bulk import Selection, leads_resume
from leads.models import Lead
from outreach.campaigns import campaign_archive, campaign_pause
from outreach.models import Campaign, Enrollment, Message
from outreach.review import message_approve, message_reject
from sdr.workspace_settings import SettingsInput, workspace_settings_update
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.locks import key_share_held, lock_timeout

pytestmark = pytest.mark.django_db(transaction=True)


def test_pausing_and_archiving_a_campaign_while_leads_are_enrolled_into_it(workspace):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    with key_share_held(campaign), lock_timeout():
        assert campaign_pause(campaign=campaign).status == Campaign.Status.PAUSED
    with key_share_held(campaign), lock_timeout():
        assert campaign_archive(campaign=campaign).status == Campaign.Status.ARCHIVED


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_reviewing_a_draft_while_a_row_about_it_commits(workspace, decision):
    message = MessageFactory(workspace=workspace, status=Message.Status.PENDING_REVIEW)
    with key_share_held(message), lock_timeout():
        if decision == "approve":
            reviewed = message_approve(message=message, user=None)
        else:
            reviewed = message_reject(message=message, user=None, reason="Too long")
    assert reviewed.status == ("approved" if decision == "approve" else "rejected")


def test_resuming_leads_while_a_running_sequence_of_theirs_gets_a_new_message(workspace):
    paused = EnrollmentFactory(workspace=workspace, status=Enrollment.Status.PAUSED)
    running = EnrollmentFactory(workspace=workspace)  # another lead, running: locked to check
    leads = Lead.objects.for_workspace(workspace).filter(pk__in=[paused.lead_id, running.lead_id])
    owner = MembershipFactory(workspace=workspace)
    selection = Selection(workspace=workspace, leads=leads, params=QueryDict(), user=owner.user)
    with key_share_held(running), lock_timeout():
        leads_resume(selection)
    paused.refresh_from_db()
    assert paused.status == Enrollment.Status.ACTIVE


def test_changing_the_workspace_s_settings_while_its_rows_are_written(workspace):
    owner = MembershipFactory(workspace=workspace)
    given = SettingsInput.from_post({"name": "Renamed", "timezone": "Europe/Berlin"})
    with key_share_held(workspace), lock_timeout():
        changed = workspace_settings_update(workspace=workspace, by=owner, given=given)
    assert "name" in changed
