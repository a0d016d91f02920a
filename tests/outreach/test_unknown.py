"""A message whose send was interrupted (UNKNOWN) is settled by a person, through the API
or the review page, or by finding its copy in the mailbox's Sent folder (a real Dovecot):
"it was sent" records it and the sequence goes on; "send it again" returns it to the
dispatcher, which sends it from the same mailbox with the same Message-ID."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils.html import escape

from outreach.dispatch import dispatch_due
from outreach.models import Campaign, Enrollment, Mailbox, Message, SequenceStep
from outreach.sending import message_send
from outreach.tasks import check_unknown_task
from sdr.activity import activities_publish
from sdr.models import Activity
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
    WorkspaceFactory,
)
from tests.imap_server import PASSWORD, USER, imap_server  # noqa: F401  (fixture)

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday, inside the sending window
UNKNOWN = Message.Status.UNKNOWN


@pytest.fixture(autouse=True)
def _smtp_delivery(settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    settings.EMAIL_DELIVERY = "smtp"


@pytest.fixture
def mailbox(workspace, smtp_server):
    return MailboxFactory(
        workspace=workspace,
        smtp_port=smtp_server.port,
        from_email="sam@pickwell.example",
        postal_address="1 Mill Lane, Leeds LS1 1AA",
    )


@pytest.fixture
def enrollment(workspace, mailbox):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    for order, kind in [(1, "first_touch"), (2, "follow_up")]:
        SequenceStepFactory(workspace=workspace, campaign=campaign, order=order, kind=kind)
    campaign.mailboxes.add(mailbox)
    lead = LeadFactory(
        workspace=workspace, email="dana@acme.example", first_name="Dana", timezone="UTC"
    )
    return EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)


@pytest.fixture
def interrupted(settings, enrollment, mailbox, smtp_server):
    """The first step, handed to the server, which took it and then answered later than we
    waited: it was delivered, and the product cannot know."""
    settings.SMTP_TIMEOUT = 0.5
    smtp_server.delay_seconds = 1.5
    step = SequenceStep.unscoped_objects.get(campaign=enrollment.campaign, order=1)
    message = MessageFactory(
        workspace=enrollment.workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.QUEUED,
        mailbox=mailbox,
        to_email="dana@acme.example",
        queued_at=NOW - timedelta(minutes=5),
        approved_at=NOW - timedelta(minutes=10),
        due_at=NOW - timedelta(minutes=5),
    )
    message_send(message_id=message.pk, now=NOW)
    message.refresh_from_db()
    assert message.status == UNKNOWN
    # The server files it once its late answer is out.
    deadline = time.monotonic() + 10
    while not smtp_server.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp_server.received) == 1
    smtp_server.delay_seconds = 0
    return message


def history(message) -> list[Activity]:
    activities_publish()
    return list(Activity.unscoped_objects.filter(object_id=str(message.pk)).order_by("seq", "id"))


def test_it_was_sent_records_it_and_the_sequence_goes_on(api, interrupted, smtp_server):
    response = api.post(
        f"/api/v1/messages/{interrupted.pk}/settle/", {"outcome": "sent"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    message = Message.unscoped_objects.get(pk=interrupted.pk)
    assert message.status == Message.Status.SENT and message.sent_at is not None
    assert message.failure_reason == ""
    follow_up = Message.unscoped_objects.get(enrollment=message.enrollment, step__order=2)
    assert follow_up.status != Message.Status.SENT  # created, to be drafted and reviewed
    assert (
        message.enrollment.lead.__class__.unscoped_objects.get(
            pk=message.enrollment.lead_id
        ).last_activity_at
        == message.sent_at
    )
    sent = [a for a in history(message) if a.type == "message.sent"]
    assert [a.payload["settled"] for a in sent] == ["sent"]
    assert sent[0].actor_type == Activity.ActorType.API_KEY
    assert len(smtp_server.received) == 1  # nothing went again


def test_send_it_again_goes_from_the_same_mailbox_with_the_same_message_id(
    web, workspace, interrupted, mailbox, smtp_server
):
    # Another active mailbox on the campaign: rotation must not move the thread to it.
    other = MailboxFactory(
        workspace=workspace,
        smtp_port=smtp_server.port,
        from_email="alex@pickwell.example",
        postal_address="1 Mill Lane, Leeds LS1 1AA",
    )
    interrupted.enrollment.campaign.mailboxes.add(other)
    first_id = smtp_server.received[0].message["Message-ID"]

    page = web.post(f"/review/{interrupted.pk}/settle/", {"outcome": "send_again"}, follow=True)

    assert "It will be sent again in its sending window" in page.content.decode()
    message = Message.unscoped_objects.get(pk=interrupted.pk)
    assert message.status == Message.Status.APPROVED
    assert Enrollment.unscoped_objects.get(pk=message.enrollment_id).mailbox_id == mailbox.pk
    report = dispatch_due(now=NOW + timedelta(hours=1))
    assert len(report.queued) == 1, report.summary()
    message_send(message_id=message.pk, now=NOW + timedelta(hours=1))
    message.refresh_from_db()
    assert message.status == Message.Status.SENT
    assert len(smtp_server.received) == 2
    again = smtp_server.received[1]
    assert again.mail_from == "sam@pickwell.example"
    assert again.message["Message-ID"] == first_id
    types = [a.type for a in history(message)]
    assert types[types.index("message.unknown") :] == [
        "message.unknown",
        "message.send_again",
        "message.queued",
        "message.sent",
    ]


def test_the_review_page_asks_what_became_of_it(web, interrupted):
    page = web.get(f"/review/{interrupted.pk}/").content.decode()

    assert 'data-testid="unknown-send"' in page
    assert "sam@pickwell.example" in page and escape(interrupted.message_id_header) in page
    assert 'value="sent"' in page and 'value="send_again"' in page


def test_the_dashboard_points_to_the_sends_to_check_until_they_are_settled(
    web, api, workspace, interrupted
):
    later = MessageFactory(workspace=workspace, status=UNKNOWN)
    Message.unscoped_objects.filter(pk=later.pk).update(updated_at=NOW + timedelta(days=9))

    page = web.get("/").content.decode()

    assert "Sends to check" in page
    assert f'href="/review/{interrupted.pk}/"' in page  # the oldest first
    for message in (interrupted, later):
        api.post(f"/api/v1/messages/{message.pk}/settle/", {"outcome": "sent"}, format="json")
    assert "Sends to check" not in web.get("/").content.decode()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"outcome": "maybe"}, 400, "outcome"),
        ({}, 400, "outcome"),
    ],
)
def test_a_bad_answer_is_refused_and_changes_nothing(api, interrupted, body, status, words):
    response = api.post(f"/api/v1/messages/{interrupted.pk}/settle/", body, format="json")

    assert response.status_code == status
    assert words in response.content.decode()
    assert Message.unscoped_objects.get(pk=interrupted.pk).status == UNKNOWN


def test_a_message_settled_already_cannot_be_settled_again(api, interrupted):
    url = f"/api/v1/messages/{interrupted.pk}/settle/"
    assert api.post(url, {"outcome": "sent"}, format="json").status_code == 200

    again = api.post(url, {"outcome": "send_again"}, format="json")

    assert again.status_code == 409
    assert "this one is sent" in again.json()["error"]["message"]
    assert Message.unscoped_objects.get(pk=interrupted.pk).status == Message.Status.SENT


def test_another_workspaces_message_cannot_be_settled(api):
    stranger = MessageFactory(workspace=WorkspaceFactory(), status=UNKNOWN)

    response = api.post(
        f"/api/v1/messages/{stranger.pk}/settle/", {"outcome": "sent"}, format="json"
    )

    assert response.status_code == 404
    assert Message.unscoped_objects.get(pk=stranger.pk).status == UNKNOWN


# --- the Sent folder ------------------------------------------------------------------------


def copy_of(message_id: str) -> bytes:
    return (
        "From: Sam <sam@pickwell.example>\r\nTo: dana@acme.example\r\n"
        f"Subject: Your new Leeds warehouse\r\nMessage-ID: {message_id}\r\n"
        "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nHi Dana.\r\n"
    ).encode()


def test_a_copy_in_the_sent_folder_settles_it_as_sent(workspace, imap_server):  # noqa: F811
    mailbox = MailboxFactory(
        workspace=workspace,
        from_email=USER,
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security=Mailbox.Security.NONE,
        imap_username=USER,
        imap_password=PASSWORD,
    )
    found, missing = (
        MessageFactory(
            workspace=workspace,
            status=UNKNOWN,
            mailbox=mailbox,
            message_id_header=f"<{name}.1764@pickwell.example>",
        )
        for name in ("found", "missing")
    )
    filed = datetime(2026, 11, 30, 15, 4, 5, tzinfo=UTC)  # past: Dovecot refuses future times
    imap_server.deliver(copy_of(found.message_id_header), folder="Sent", when=filed)
    imap_server.deliver(copy_of(missing.message_id_header), folder="INBOX")  # not Sent

    check_unknown_task()

    found.refresh_from_db()
    missing.refresh_from_db()
    assert (found.status, found.sent_at) == (Message.Status.SENT, filed)
    assert missing.status == UNKNOWN  # not finding it proves nothing: a person decides
    [sent] = [a for a in history(found) if a.type == "message.sent"]
    assert sent.payload["settled"] == "sent"
    assert "Sent folder" in sent.payload["evidence"]
    assert sent.actor_type == Activity.ActorType.SYSTEM


def test_a_mailbox_that_cannot_be_read_is_skipped_and_the_others_checked(
    workspace,
    imap_server,  # noqa: F811
):
    broken = MailboxFactory(
        workspace=workspace, imap_host="127.0.0.1", imap_port=1, imap_username=USER
    )
    working = MailboxFactory(
        workspace=workspace,
        imap_host="127.0.0.1",
        imap_port=imap_server.port,
        imap_security=Mailbox.Security.NONE,
        imap_username=USER,
        imap_password=PASSWORD,
    )
    stuck = MessageFactory(
        workspace=workspace, status=UNKNOWN, mailbox=broken, message_id_header="<a@x.example>"
    )
    found = MessageFactory(
        workspace=workspace, status=UNKNOWN, mailbox=working, message_id_header="<b@x.example>"
    )
    imap_server.deliver(copy_of("<b@x.example>"), folder="Sent")

    check_unknown_task()

    assert Message.unscoped_objects.get(pk=stuck.pk).status == UNKNOWN
    assert Message.unscoped_objects.get(pk=found.pk).status == Message.Status.SENT
