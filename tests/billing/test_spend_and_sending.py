"""The monthly spend cap and failed payments pause new sending; the owner is told."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billing.ledger import account_for
from billing.spend import sending_holds
from outreach.dispatch import dispatch_due
from outreach.models import Campaign, Message
from sdr.models import Activity, Workspace
from tests.billing.helpers import positive_reply
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
)
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


def approved_message(workspace: Workspace) -> Message:
    campaign: Any = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    campaign.mailboxes.add(MailboxFactory(workspace=workspace, min_interval_seconds=0))
    enrollment = EnrollmentFactory(
        workspace=workspace, campaign=campaign, lead=LeadFactory(workspace=workspace)
    )
    return MessageFactory(  # type: ignore[return-value]
        workspace=workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.APPROVED,
        approved_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_sending_pauses_when_the_next_outcome_would_pass_the_cap(
    workspace: Workspace,
    stripe_server: FakeStripe,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from sdr.models import Membership
    from tests.factories import UserFactory

    owner = UserFactory(email="owner@acme.example")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    account = account_for(workspace)
    account.spend_cap = Decimal("20.00")
    account.save()
    message = approved_message(workspace)

    positive_reply(workspace)  # 9 spent: another 9 still fits under 20
    assert sending_holds(now=timezone.now()) == {}

    with django_capture_on_commit_callbacks(execute=True):
        positive_reply(workspace)  # 18 spent: another would pass 20

    assert [m.to for m in mailoutbox] == [["owner@acme.example"]]
    assert "spend cap" in mailoutbox[0].subject
    reason = sending_holds(now=timezone.now())[workspace.pk]
    assert "spend cap" in reason
    told = Activity.objects.for_workspace(workspace).filter(type="billing.spend_cap_reached")
    assert told.count() == 1
    dispatch_due(now=timezone.now())
    message.refresh_from_db()
    assert message.status == Message.Status.APPROVED
    assert message.hold_reason == reason


def test_a_persons_answer_to_a_reply_still_goes_when_billing_pauses_sending(
    workspace: Workspace, stripe_server: FakeStripe
) -> None:
    account = account_for(workspace)
    account.spend_cap = Decimal("10.00")
    account.save()
    positive_reply(workspace)  # 9 spent: the next would pass 10
    reason = sending_holds(now=timezone.now())[workspace.pk]
    answer = approved_message(workspace)
    Message.objects.for_workspace(workspace).filter(pk=answer.pk).update(kind=Message.Kind.ANSWER)
    outreach = approved_message(workspace)

    dispatch_due(now=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # a Monday morning

    answer.refresh_from_db()
    outreach.refresh_from_db()
    assert outreach.hold_reason == reason
    assert answer.hold_reason != reason
    assert answer.status == Message.Status.QUEUED


def test_the_banner_tells_members_why_sending_is_paused(
    web: Client, workspace: Workspace, stripe_server: FakeStripe
) -> None:
    account = account_for(workspace)
    account.spend_cap = Decimal("10.00")
    account.save()
    positive_reply(workspace)

    page = web.get("/leads/").content.decode()

    assert 'data-testid="billing-banner"' in page
    assert "spend cap" in page


def test_raising_the_cap_resumes_sending(
    web: Client, workspace: Workspace, stripe_server: FakeStripe, member: Any
) -> None:
    from sdr.models import Membership

    Membership.objects.filter(user=member).update(role=Membership.Role.OWNER)
    account = account_for(workspace)
    account.spend_cap = Decimal("10.00")
    account.save()
    positive_reply(workspace)
    assert workspace.pk in sending_holds(now=timezone.now())

    web.post("/billing/cap/", {"spend_cap": "500"})

    assert sending_holds(now=timezone.now()) == {}


def test_a_member_who_is_not_an_owner_cannot_change_the_cap(
    web: Client, workspace: Workspace, member: Any
) -> None:
    from sdr.models import Membership

    Membership.objects.filter(user=member).update(role=Membership.Role.MEMBER)
    web.post("/billing/cap/", {"spend_cap": "1"})

    assert account_for(workspace).spend_cap is None


def test_with_billing_off_nothing_pauses_sending(workspace: Workspace, settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    account = account_for(workspace)
    account.spend_cap = Decimal("1.00")
    account.save()
    positive_reply(workspace)

    assert sending_holds(now=timezone.now()) == {}
