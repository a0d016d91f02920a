"""Sending queued messages to a real SMTP server (aiosmtpd on loopback): handed over at
most once, never to an address suppressed since it was queued, threaded, retried only when
the failure may pass, and never resent after a crash; a mailbox's due messages go as a
batch over one connection, claimed and recorded a group at a time, each checked against
the suppression list right before its SMTP call. The clock is passed in."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django.db import connection

from leads.models import Lead, Suppression
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome, SequenceStep
from outreach.sending import _SentHere, backoff_seconds, message_send
from sdr.models import Activity
from sdr.states import claim, sweep
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
    SuppressionFactory,
)
from tests.smtp_server import SmtpSink, _free_port
from tests.smtp_server import _Handler as _SinkHandler

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
QUEUED, SENDING = Message.Status.QUEUED, Message.Status.SENDING


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    settings.EMAIL_DELIVERY = "smtp"


@pytest.fixture
def mailbox(workspace, smtp_server):
    return MailboxFactory(
        workspace=workspace,
        smtp_port=smtp_server.port,
        from_name="Sam Seller",
        from_email="sam@pickwell.example",
        signature="Sam Seller\nHead of Sales, Pickwell",
    )


@pytest.fixture
def campaign(workspace, mailbox):
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    for order, kind in [(1, "first_touch"), (2, "follow_up"), (3, "follow_up")]:
        SequenceStepFactory(workspace=workspace, campaign=campaign, order=order, kind=kind)
    campaign.mailboxes.add(mailbox)
    return campaign


@pytest.fixture
def enrollment(workspace, campaign):
    lead = LeadFactory(workspace=workspace, email="dana@acme.example", first_name="Dana")
    return EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)


def queued(enrollment, mailbox, *, order=1, **fields):
    """The message of step `order`, as the dispatcher leaves it: QUEUED with its mailbox,
    address and planned time. A follow-up the sequence created when the step before it was
    sent is taken as it is, drafted and queued."""
    step = SequenceStep.unscoped_objects.get(campaign=enrollment.campaign, order=order)
    fields.setdefault("subject", "Your new Leeds warehouse")
    fields.setdefault("body", "Hi Dana, saw you opened a warehouse in Leeds. Worth a call?")
    fields.update(
        status=QUEUED,
        mailbox=mailbox,
        to_email=enrollment.lead.email,
        queued_at=NOW - timedelta(minutes=1),
        due_at=NOW - timedelta(minutes=1),
    )
    existing = Message.unscoped_objects.filter(enrollment=enrollment, step=step)
    if existing.update(**fields):
        return existing.get()
    return MessageFactory(
        workspace=enrollment.workspace, enrollment=enrollment, step=step, **fields
    )


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def activities(message, type):
    return list(Activity.unscoped_objects.filter(type=type, object_id=str(message.pk)))


# -- the happy path ---------------------------------------------------------------------------


def test_a_queued_message_is_sent_with_every_header(enrollment, mailbox, smtp_server):
    message = queued(enrollment, mailbox)

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.SENT
    assert message.sent_at == NOW and message.smtp_response.startswith("250")
    assert message.send_attempts == 1
    [received] = smtp_server.received
    assert received.mail_from == "sam@pickwell.example"
    assert received.rcpt_tos == ["dana@acme.example"]
    email = received.message
    assert email["From"] == "Sam Seller <sam@pickwell.example>"
    assert email["To"] == "dana@acme.example"
    assert email["Subject"] == "Your new Leeds warehouse"
    assert email["Date"] == "Mon, 07 Dec 2026 10:00:00 +0000"
    # The Message-ID was stored, on the sender's domain, and is the one that went.
    assert email["Message-ID"] == message.message_id_header
    assert message.message_id_header.endswith("@pickwell.example>")
    assert email["In-Reply-To"] is None and email["References"] is None
    unsubscribe = email["List-Unsubscribe"]
    assert "<mailto:sam@pickwell.example?subject=unsubscribe>" in unsubscribe
    assert "<https://sdr.example.com/u/" in unsubscribe
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = email.get_content().replace("\r\n", "\n")
    assert body.startswith(message.body)
    assert "Sam Seller\nHead of Sales, Pickwell" in body
    assert "Pickwell Ltd, 1 Dock Road, Leeds LS1 1AA, UK" in body
    assert 'reply "unsubscribe"' in body and "https://sdr.example.com/u/" in body


def test_a_line_that_starts_with_a_dot_arrives_as_written(enrollment, mailbox, smtp_server):
    # SMTP ends the data with a lone dot: lines starting with one are doubled on the wire.
    message = queued(enrollment, mailbox, body="Hi Dana,\n.\n..and a line with dots")

    message_send(message_id=message.pk, now=NOW)

    body = smtp_server.received[0].message.get_content().replace("\r\n", "\n")
    assert body.startswith("Hi Dana,\n.\n..and a line with dots\n")


def test_a_sent_message_updates_its_thread_mailbox_and_history(enrollment, mailbox, smtp_server):
    message = queued(enrollment, mailbox)
    assert enrollment.mailbox is None

    message_send(message_id=message.pk, now=NOW)

    assert fresh(enrollment).mailbox == mailbox
    assert fresh(mailbox).last_sent_at == NOW
    assert fresh(enrollment.lead).last_activity_at == NOW
    [sent] = activities(message, "message.sent")
    assert sent.payload["message_id"] == fresh(message).message_id_header
    assert sent.payload["mailbox"] == str(mailbox.pk)


def test_a_follow_up_threads_under_the_earlier_messages(enrollment, mailbox, smtp_server):
    first = queued(enrollment, mailbox, order=1, subject="Your new Leeds warehouse")
    message_send(message_id=first.pk, now=NOW)
    second = queued(enrollment, mailbox, order=2, subject="")
    message_send(message_id=second.pk, now=NOW + timedelta(days=3))
    third = queued(enrollment, mailbox, order=3, subject="Something else")
    message_send(message_id=third.pk, now=NOW + timedelta(days=6))

    first, second, third = fresh(first), fresh(second), fresh(third)
    emails = smtp_server.messages_to("dana@acme.example")
    assert [e["Subject"] for e in emails] == ["Your new Leeds warehouse"] + [
        "Re: Your new Leeds warehouse"
    ] * 2
    assert emails[1]["In-Reply-To"] == first.message_id_header
    assert emails[1]["References"] == first.message_id_header
    assert emails[2]["In-Reply-To"] == second.message_id_header
    assert emails[2]["References"] == f"{first.message_id_header} {second.message_id_header}"
    # Stored as sent, for reply matching.
    assert (third.in_reply_to, third.references) == (
        second.message_id_header,
        f"{first.message_id_header} {second.message_id_header}",
    )
    assert len({first.message_id_header, second.message_id_header, third.message_id_header}) == 3


def test_in_the_demo_the_email_is_printed_and_recorded_as_sent(
    settings, enrollment, mailbox, smtp_server, capsys
):
    settings.EMAIL_DELIVERY = "console"
    message = queued(enrollment, mailbox)

    message_send(message_id=message.pk, now=NOW)

    assert fresh(message).status == Message.Status.SENT
    assert "EMAIL_DELIVERY=console" in fresh(message).smtp_response
    printed = capsys.readouterr().out
    assert "Subject: Your new Leeds warehouse" in printed
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in printed
    assert smtp_server.received == []


# -- checked again right before SMTP ------------------------------------------------------------


def test_an_address_suppressed_after_queueing_is_not_sent(
    workspace, enrollment, mailbox, smtp_server
):
    message = queued(enrollment, mailbox)
    SuppressionFactory(
        workspace=workspace, value="dana@acme.example", source=Suppression.Source.UNSUBSCRIBE
    )

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert message.failure_reason == "suppressed: unsubscribed"
    assert message.send_attempts == 0
    assert fresh(enrollment).status == Enrollment.Status.STOPPED
    assert smtp_server.received == []
    assert activities(message, "message.send_failed")


def test_a_domain_suppressed_after_queueing_is_not_sent(
    workspace, enrollment, mailbox, smtp_server
):
    message = queued(enrollment, mailbox)
    SuppressionFactory(workspace=workspace, kind=Suppression.Kind.DOMAIN, value="acme.example")

    message_send(message_id=message.pk, now=NOW)

    assert fresh(message).failure_reason == "suppressed: domain added by a person"
    assert smtp_server.received == []


def test_an_unsubscribed_address_never_receives_the_follow_up(
    client, enrollment, mailbox, smtp_server
):
    first = queued(enrollment, mailbox, order=1)
    message_send(message_id=first.pk, now=NOW)
    follow_up = queued(enrollment, mailbox, order=2)
    url = smtp_server.received[0].message["List-Unsubscribe"].split("<")[2].rstrip(">")
    # Queued before the person unsubscribed; the sequence is stopped, the address suppressed.
    response = client.post(url.removeprefix("https://sdr.example.com"), {})
    assert response.status_code == 200

    message_send(message_id=follow_up.pk, now=NOW + timedelta(days=3))

    assert len(smtp_server.messages_to("dana@acme.example")) == 1
    follow_up = fresh(follow_up)
    assert (follow_up.status, follow_up.failure_reason) == (
        Message.Status.FAILED,
        "suppressed: unsubscribed",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"campaign": Campaign.Status.PAUSED}, "campaign paused"),
        ({"enrollment": Enrollment.Status.PAUSED}, "sequence paused for this lead"),
        ({"mailbox": Mailbox.Status.PAUSED}, "mailbox sam@pickwell.example paused"),
    ],
)
def test_a_message_whose_campaign_or_sequence_stopped_since_queueing_waits(
    enrollment, mailbox, smtp_server, change, reason
):
    message = queued(enrollment, mailbox)
    if "campaign" in change:
        Campaign.unscoped_objects.filter(pk=enrollment.campaign_id).update(
            status=change["campaign"]
        )
    if "enrollment" in change:
        Enrollment.unscoped_objects.filter(pk=enrollment.pk).update(status=change["enrollment"])
    if "mailbox" in change:
        Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(status=change["mailbox"])

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert (message.status, message.hold_reason) == (Message.Status.APPROVED, reason)
    assert message.send_attempts == 0
    assert smtp_server.received == []


def test_a_subject_with_a_line_break_is_never_sent(enrollment, mailbox, smtp_server):
    # A company name scraped with CR/LF, drafted into the subject: it would add a header.
    message = queued(enrollment, mailbox, subject="Acme Ltd\r\nBcc: everyone@victim.example")

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert "The subject contains a line break" in message.failure_reason
    assert smtp_server.received == []


# -- failures ---------------------------------------------------------------------------------


def test_a_transient_failure_is_queued_again_after_a_backoff(
    settings, enrollment, mailbox, smtp_server, django_capture_on_commit_callbacks
):
    settings.SEND_RETRY_BASE_SECONDS = 30
    message = queued(enrollment, mailbox)
    smtp_server.rcpt_reply = "451 4.3.0 Try again later"

    with django_capture_on_commit_callbacks() as hints:
        message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == QUEUED and message.send_attempts == 1
    assert timedelta(seconds=30) <= message.due_at - NOW <= timedelta(seconds=45)
    assert "451 4.3.0 Try again later" in message.failure_reason
    assert "Attempt 1 of 5" in message.failure_reason
    assert len(hints) == 1  # the send task again, with the backoff as its countdown
    assert activities(message, "message.send_retry")
    first_id = message.message_id_header

    # Too early: the hint came back before the backoff (the sweeper, a redelivery).
    assert message_send(message_id=message.pk, now=NOW + timedelta(seconds=10)) is None
    assert fresh(message).status == QUEUED and fresh(message).send_attempts == 1

    smtp_server.clear()
    message_send(message_id=message.pk, now=message.due_at)

    message = fresh(message)
    assert message.status == Message.Status.SENT and message.send_attempts == 2
    # The same Message-ID as the first attempt: a receiver can tell it is the same email.
    assert smtp_server.received[0].message["Message-ID"] == first_id == message.message_id_header
    assert message.failure_reason == ""


def test_the_backoff_doubles_with_jitter(settings):
    settings.SEND_RETRY_BASE_SECONDS = 30
    for attempts, base in [(1, 30), (2, 60), (3, 120), (4, 240)]:
        delays = {backoff_seconds(attempts) for _ in range(20)}
        assert all(base <= d <= base * 1.5 for d in delays)
        assert len(delays) > 1


def test_transient_failures_give_up_after_the_last_attempt(
    settings, enrollment, mailbox, smtp_server
):
    settings.SEND_MAX_ATTEMPTS = 3
    message = queued(enrollment, mailbox)
    smtp_server.data_reply = "451 4.7.1 Greylisted, try again later"
    now = NOW
    for _ in range(3):
        message_send(message_id=message.pk, now=now)
        now = (fresh(message).due_at or now) + timedelta(seconds=1)

    message = fresh(message)
    assert message.status == Message.Status.FAILED and message.send_attempts == 3
    assert message.failure_reason.startswith("Gave up after 3 attempts.")
    assert "451 4.7.1 Greylisted, try again later" in message.failure_reason
    assert message_send(message_id=message.pk, now=now + timedelta(days=1)) is None


@pytest.mark.parametrize("unavailable", ["no server", "421"])
def test_a_server_that_is_unavailable_is_waited_out_not_given_up_after_a_few_tries(
    settings, enrollment, mailbox, smtp_server, unavailable
):
    # An outage at the customer's mail provider, or its "421: not now" (a rate limit),
    # says nothing about the message: a few quick retries would fail every email due.
    settings.SEND_MAX_ATTEMPTS = 2
    settings.SEND_RETRY_MAX_SECONDS = 600
    settings.SEND_UNREACHABLE_GIVE_UP_HOURS = 3
    if unavailable == "no server":
        Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_port=_free_port())
    else:
        smtp_server.data_reply = "421 4.7.0 Too many messages, slow down"
    message = queued(enrollment, mailbox)
    now = NOW
    for _ in range(6):
        message_send(message_id=message.pk, now=now)
        message = fresh(message)
        assert message.status == QUEUED, message.failure_reason
        assert message.due_at - now <= timedelta(seconds=600 * 1.5)  # the backoff's cap
        now = message.due_at + timedelta(seconds=1)

    assert message.send_attempts == 6
    assert "The server is unavailable" in message.failure_reason
    message_send(message_id=message.pk, now=message.queued_at + timedelta(hours=3, minutes=1))
    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert message.failure_reason.startswith("Gave up after 7 attempts.")


def test_a_permanent_failure_fails_with_the_servers_words(
    workspace, enrollment, mailbox, smtp_server
):
    message = queued(enrollment, mailbox)
    smtp_server.data_reply = "554 5.7.1 Message rejected as spam"

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert message.failure_reason == "The message was refused: 554 5.7.1 Message rejected as spam"
    assert message.send_attempts == 1
    assert not Suppression.objects.for_workspace(workspace).filter(value="dana@acme.example")
    [failed] = activities(message, "message.send_failed")
    assert "554 5.7.1" in failed.payload["reason"]


def test_a_mailbox_whose_sign_in_is_refused_stops_sending_and_fails_no_message(
    workspace, campaign, mailbox, smtp_server, member, mailoutbox
):
    # The mailbox's password changed at the provider: a fault of the mailbox, not of any
    # message. Failing each due message in turn would end every lead's sequence.
    smtp_server.credentials = {"sam@pickwell.example": "the-new-password"}
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(
        smtp_username="sam@pickwell.example", min_interval_seconds=0
    )
    mailbox.refresh_from_db()
    mailbox.smtp_password = "the-old-password"
    mailbox.save(update_fields=["smtp_password"])
    messages = batch_of(workspace, campaign, mailbox, 3)

    message_send(message_id=messages[0].pk, now=NOW)
    for message in messages[1:]:  # their own hints, after the batch stopped
        message_send(message_id=message.pk, now=NOW)

    assert smtp_server.received == []
    for message in map(fresh, messages):
        assert message.status == Message.Status.APPROVED, message.failure_reason
        assert message.send_attempts == 0
        assert "mailbox sam@pickwell.example" in message.hold_reason
    mailbox = fresh(mailbox)
    assert mailbox.status == Mailbox.Status.FAILING
    assert "refused the username or password" in mailbox.last_test_result
    assert Activity.unscoped_objects.filter(
        type="mailbox.failing", object_id=str(mailbox.pk)
    ).exists()
    [told] = mailoutbox  # once, not once per message
    assert told.to == [member.email] and "sam@pickwell.example stopped" in told.subject

    # Fixed and tested again, it sends what waited, from the dispatcher's next pass.
    from outreach.dispatch import dispatch_due
    from outreach.mailboxes import mailbox_test

    mailbox.smtp_password = "the-new-password"
    mailbox.save(update_fields=["smtp_password"])
    assert mailbox_test(mailbox=mailbox).ok
    dispatch_due(now=NOW + timedelta(minutes=1))
    for message in messages:
        message_send(message_id=message.pk, now=NOW + timedelta(minutes=1))
    assert {fresh(m).status for m in messages} == {Message.Status.SENT}
    assert len(smtp_server.received) == 3


def test_a_refused_recipient_is_suppressed_and_recorded_as_a_bounce(
    workspace, enrollment, mailbox, smtp_server
):
    message = queued(enrollment, mailbox)
    smtp_server.rcpt_reply = "550 5.1.1 No such user here"

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.FAILED
    assert "550 5.1.1 No such user here" in message.failure_reason
    [suppression] = Suppression.objects.for_workspace(workspace).filter(value="dana@acme.example")
    assert suppression.source == Suppression.Source.BOUNCE
    [outcome] = Outcome.objects.for_workspace(workspace).filter(lead=enrollment.lead)
    assert outcome.kind == Outcome.Kind.BOUNCED and outcome.evidence_id == str(message.pk)
    assert "550 5.1.1" in outcome.evidence
    assert fresh(enrollment).status == Enrollment.Status.STOPPED
    assert fresh(enrollment.lead).status == Lead.Status.BOUNCED


def test_a_connection_lost_after_the_hand_over_is_unknown_and_not_retried(
    settings, enrollment, mailbox, smtp_server
):
    # The server takes the whole message, then answers later than we wait: it may well
    # have delivered it (here it did), so trying again could send it twice.
    settings.SMTP_TIMEOUT = 0.5
    smtp_server.delay_seconds = 1.5
    message = queued(enrollment, mailbox)

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.UNKNOWN
    assert "may or may not have been delivered" in message.failure_reason
    assert "Sent folder" in message.failure_reason
    assert activities(message, "message.unknown")
    assert message_send(message_id=message.pk, now=NOW + timedelta(days=1)) is None


# -- crashes and races ---------------------------------------------------------------------------


def test_a_send_whose_worker_died_becomes_unknown_and_is_never_resent(
    enrollment, mailbox, smtp_server
):
    message = queued(enrollment, mailbox)
    # A worker claims it and dies before it records anything (SIGKILL in the SMTP call).
    assert claim(Message, message.pk, source=QUEUED, target=SENDING, lease=timedelta(minutes=5))
    Message.unscoped_objects.filter(pk=message.pk).update(
        claimed_until=NOW.replace(year=2020)  # long expired
    )

    report = sweep()

    message = fresh(message)
    assert report.expired == {"message": 1}
    assert message.status == Message.Status.UNKNOWN
    assert message.failure_reason.startswith("The send was interrupted")
    assert (message.claimed_until, message.claim_token) == (None, None)
    assert activities(message, "message.lease_expired")
    # Neither the task (redelivered by the broker) nor the sweeper sends it again.
    assert message_send(message_id=message.pk, now=NOW) is None
    assert sweep().requeued == {}
    assert smtp_server.received == []
    assert fresh(message).status == Message.Status.UNKNOWN


def test_a_queued_message_whose_hint_was_lost_is_sent_by_the_sweeper(
    enrollment, mailbox, smtp_server
):
    # Tests run Celery eagerly: the sweeper's hint runs the send task at once.
    message = queued(enrollment, mailbox)
    Message.unscoped_objects.filter(pk=message.pk).update(updated_at=NOW.replace(year=2020))

    report = sweep()

    assert report.requeued == {"message": 1}
    assert fresh(message).status == Message.Status.SENT
    assert len(smtp_server.messages_to("dana@acme.example")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_message_deliver_it_once(smtp_server, settings):
    settings.PUBLIC_BASE_URL = "https://sdr.example.com"
    settings.EMAIL_DELIVERY = "smtp"
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory(slug="racers")
    mailbox = MailboxFactory(workspace=workspace, smtp_port=smtp_server.port)
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    lead = LeadFactory(workspace=workspace, email="dana@acme.example")
    enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
    message = queued(enrollment, mailbox)
    workers = 6
    start = threading.Barrier(workers)
    results: list[object] = []

    def work() -> None:
        try:
            start.wait()
            results.append(message_send(message_id=message.pk, now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == workers
    assert sum(result is not None for result in results) == 1
    assert len(smtp_server.received) == 1
    assert fresh(message).status == Message.Status.SENT
    assert fresh(message).send_attempts == 1


# -- a batch: the mailbox's due messages on one connection ------------------------------------


class _WatchingHandler(_SinkHandler):
    """The tests' SMTP handler, noting the connection (the client's port) of each message
    and calling `after_data` once a message is accepted."""

    def __init__(self, sink: SmtpSink) -> None:
        super().__init__(sink)
        self.peers: list[object] = []
        self.after_data: Callable[[int], None] | None = None
        self.controller: Controller | None = None
        self.gone_after: int | None = None  # the server goes away after this message

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        answer = await super().handle_DATA(server, session, envelope)
        self.peers.append(session.peer)
        if self.after_data is not None:
            self.after_data(len(self.peers))
        if len(self.peers) == self.gone_after:
            # Once this answer is written: the connection closes and no other is taken.
            asyncio.get_running_loop().call_soon(self._go_away, server)
        return answer

    def _go_away(self, server) -> None:  # type: ignore[no-untyped-def]
        assert self.controller is not None
        self.controller.server.close()
        server.transport.close()


@pytest.fixture
def watched_smtp():
    sink = SmtpSink(port=_free_port())
    handler = _WatchingHandler(sink)
    controller = Controller(
        handler,
        hostname=sink.host,
        port=sink.port,
        decode_data=False,
        auth_require_tls=False,
        authenticator=lambda *args: AuthResult(success=True),
    )
    handler.controller = controller
    controller.start()
    try:
        yield sink, handler
    finally:
        controller.stop()


def batch_of(workspace, campaign, mailbox, n, *, subject="Your new Leeds warehouse"):
    """`n` messages of the mailbox, queued by the dispatcher for the same slot."""
    messages = []
    for i in range(n):
        lead = LeadFactory(workspace=workspace, email=f"lead{i}@company{i}.example")
        enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
        messages.append(queued(enrollment, mailbox, subject=subject))
    return messages


def test_a_mailboxs_due_messages_go_over_one_connection(
    workspace,
    campaign,
    mailbox,
    watched_smtp,
    django_assert_max_num_queries,
    django_assert_num_queries,
):
    sink, handler = watched_smtp
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_port=sink.port)
    messages = batch_of(workspace, campaign, mailbox, 6)

    # One hint sends them all: the others' hints come later and find nothing to do.
    # A bound, not a target: about ten queries a message before batching.
    with django_assert_max_num_queries(6 * 7 + 25):
        message_send(message_id=messages[0].pk, now=NOW)
    # Here, in the process that sent them, without asking the database.
    with django_assert_num_queries(0):
        assert all(message_send(message_id=m.pk, now=NOW) is None for m in messages[1:])

    assert {fresh(m).status for m in messages} == {Message.Status.SENT}
    assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(m.to_email for m in messages)
    assert len(set(handler.peers)) == 1  # one connection for the six
    # Each is recorded on its own, with its own Message-ID and history, and the sequence
    # goes on for each: the next step is created, threaded under the sent one.
    for message in messages:
        message = fresh(message)
        assert message.send_attempts == 1
        assert len(activities(message, "message.sent")) == 1
        follow_up = Message.unscoped_objects.get(enrollment=message.enrollment, step__order=2)
        assert follow_up.status == Message.Status.DRAFTING
        assert follow_up.in_reply_to == message.message_id_header
        assert fresh(message.enrollment).current_step_id == follow_up.step_id
        assert fresh(message.enrollment).mailbox_id == mailbox.pk
    assert len({fresh(m).message_id_header for m in messages}) == 6
    assert fresh(mailbox).last_sent_at == NOW


def test_a_message_planned_later_waits_for_its_own_slot(workspace, campaign, mailbox, smtp_server):
    now_due, later = batch_of(workspace, campaign, mailbox, 2)
    Message.unscoped_objects.filter(pk=later.pk).update(due_at=NOW + timedelta(minutes=2))

    message_send(message_id=now_due.pk, now=NOW)

    assert fresh(now_due).status == Message.Status.SENT
    assert fresh(later).status == QUEUED  # the mailbox's spacing: its hint comes at its time
    message_send(message_id=later.pk, now=NOW + timedelta(minutes=2))
    assert fresh(later).status == Message.Status.SENT


def test_a_refused_recipient_in_a_batch_fails_only_its_own_message(
    workspace, campaign, mailbox, watched_smtp
):
    sink, handler = watched_smtp
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_port=sink.port)
    first, refused, last = batch_of(workspace, campaign, mailbox, 3)
    sink.rcpt_reply, sink.fail_for = "550 5.1.1 No such user here", {refused.to_email}

    message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == fresh(last).status == Message.Status.SENT
    refused = fresh(refused)
    assert refused.status == Message.Status.FAILED
    assert "550 5.1.1 No such user here" in refused.failure_reason
    assert Suppression.objects.for_workspace(workspace).filter(value=refused.to_email).exists()
    # The refused transaction was reset and the connection kept for the last message.
    assert len(set(handler.peers)) == 1
    assert [r.rcpt_tos for r in sink.received] == [[first.to_email], [last.to_email]]


def test_a_transient_failure_in_a_batch_retries_only_its_own_message(
    workspace, campaign, mailbox, smtp_server
):
    first, deferred, last = batch_of(workspace, campaign, mailbox, 3)
    smtp_server.rcpt_reply, smtp_server.fail_for = "451 4.3.0 Try later", {deferred.to_email}

    message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == fresh(last).status == Message.Status.SENT
    deferred = fresh(deferred)
    assert (deferred.status, deferred.send_attempts) == (QUEUED, 1)
    assert deferred.due_at > NOW


def test_a_message_that_cannot_be_built_fails_alone_in_its_batch(
    workspace, campaign, mailbox, smtp_server
):
    first, unsafe, last = batch_of(workspace, campaign, mailbox, 3)
    Message.unscoped_objects.filter(pk=unsafe.pk).update(
        subject="Acme Ltd\r\nBcc: everyone@victim.example"
    )

    message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == fresh(last).status == Message.Status.SENT
    unsafe = fresh(unsafe)
    assert unsafe.status == Message.Status.FAILED
    assert "The subject contains a line break" in unsafe.failure_reason
    assert len(smtp_server.received) == 2


def test_a_message_whose_sequence_paused_after_the_batch_took_it_waits_alone(
    workspace, campaign, mailbox, smtp_server
):
    first, paused, last = batch_of(workspace, campaign, mailbox, 3)
    Enrollment.unscoped_objects.filter(pk=paused.enrollment_id).update(
        status=Enrollment.Status.PAUSED
    )

    message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == fresh(last).status == Message.Status.SENT
    paused = fresh(paused)
    assert (paused.status, paused.hold_reason) == (
        Message.Status.APPROVED,
        "sequence paused for this lead",
    )
    assert paused.send_attempts == 0
    assert [r.rcpt_tos for r in smtp_server.received] == [[first.to_email], [last.to_email]]


def test_a_server_gone_in_the_middle_of_a_group_gives_back_the_rest_of_it(
    workspace, campaign, mailbox, watched_smtp, django_capture_on_commit_callbacks
):
    sink, handler = watched_smtp
    Mailbox.unscoped_objects.filter(pk=mailbox.pk).update(smtp_port=sink.port)
    first, *group = batch_of(workspace, campaign, mailbox, 3)
    handler.gone_after = 1

    with django_capture_on_commit_callbacks() as hints:
        message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == Message.Status.SENT
    # Planned for the same moment, the group's messages go in the order of their ids.
    cut_off, untried = sorted((fresh(m) for m in group), key=lambda m: m.pk)
    # The message the failure struck is tried again after a backoff.
    assert (cut_off.status, cut_off.send_attempts) == (QUEUED, 1)
    assert cut_off.due_at > NOW
    # The one claimed with it and never handed over goes back as it was, and is hinted
    # again (its own hint may have come while it was claimed).
    assert (untried.status, untried.send_attempts, untried.due_at) == (
        QUEUED,
        0,
        NOW - timedelta(minutes=1),
    )
    assert (untried.claimed_until, untried.claim_token) == (None, None)
    assert not activities(untried, "message.send_retry")
    # Sends of the two, and the drafting of the first one's follow-up.
    assert len(hints) == 3
    assert [r.rcpt_tos for r in sink.received] == [[first.to_email]]


def committed_campaign(sink: SmtpSink, slug: str) -> tuple:
    """A workspace, its active one-step campaign and a mailbox on `sink`, committed (for the
    tests whose other thread must see them)."""
    from tests.factories import WorkspaceFactory

    workspace = WorkspaceFactory(slug=slug)
    mailbox = MailboxFactory(workspace=workspace, smtp_port=sink.port)
    campaign = CampaignFactory(workspace=workspace, status=Campaign.Status.ACTIVE)
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    campaign.mailboxes.add(mailbox)
    return workspace, campaign, mailbox


def in_another_thread(work: Callable[[], object]) -> None:
    """Run `work` on a database connection of its own, as another process would, and wait
    for it. (The SMTP server's handler runs in an event loop, where Django may not query.)"""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@pytest.mark.django_db(transaction=True)
def test_an_address_suppressed_while_its_batch_is_sending_is_not_sent(watched_smtp):
    # The batch took both messages; the suppression arrives while the first is on the
    # wire, after the batch started: the second must not go.
    sink, handler = watched_smtp
    workspace, campaign, mailbox = committed_campaign(sink, "suppressed-mid-batch")
    first, second = batch_of(workspace, campaign, mailbox, 2)

    def unsubscribe_second(count: int) -> None:
        if count == 1:
            in_another_thread(
                lambda: SuppressionFactory(
                    workspace=workspace,
                    value=second.to_email,
                    source=Suppression.Source.UNSUBSCRIBE,
                )
            )

    handler.after_data = unsubscribe_second

    message_send(message_id=first.pk, now=NOW)

    assert fresh(first).status == Message.Status.SENT, fresh(first).failure_reason
    second = fresh(second)
    assert (second.status, second.failure_reason) == (
        Message.Status.FAILED,
        "suppressed: unsubscribed",
    )
    assert second.send_attempts == 0
    assert fresh(second.enrollment).status == Enrollment.Status.STOPPED
    assert [r.rcpt_tos for r in sink.received] == [[first.to_email]]


@pytest.mark.django_db(transaction=True)
def test_a_send_the_sweeper_gave_up_on_is_sent_after_all_when_the_server_takes_it(
    watched_smtp,
):
    sink, handler = watched_smtp
    workspace, campaign, mailbox = committed_campaign(sink, "outlived-its-lease")
    [message] = batch_of(workspace, campaign, mailbox, 1)

    def lease_runs_out() -> None:
        Message.unscoped_objects.filter(pk=message.pk).update(claimed_until=NOW.replace(year=2020))
        sweep()

    # The worker stalled past its lease while the server took the message.
    handler.after_data = lambda count: in_another_thread(lease_runs_out)

    message_send(message_id=message.pk, now=NOW)

    message = fresh(message)
    assert message.status == Message.Status.SENT
    assert activities(message, "message.lease_expired")
    [sent] = activities(message, "message.sent")
    assert sent.payload["after_lease_expired"] is True


def test_the_sent_messages_a_process_remembers_are_bounded():
    remembered = _SentHere()
    remembered.LIMIT = 3
    messages = [Message(pk=uuid.uuid4()) for _ in range(5)]

    remembered.add(messages[:2])
    remembered.add(messages[2:])

    assert [str(m.pk) in remembered for m in messages] == [False, False, True, True, True]
