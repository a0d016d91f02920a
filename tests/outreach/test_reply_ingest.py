"""Raw messages in: stored before anything reads them, once per content, parsed, threaded
to the message they answer, handed to handling, and never lost when they cannot be read.

`reply_handle` (classification and actions, tested on its own) is replaced here by a
recorder in most tests: these say what ingest hands it, not what it does with it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from outreach.models import Enrollment, InboundEmail, Message, Reply, SequenceStep
from outreach.replies import ingest
from outreach.replies.ingest import (
    inbound_process,
    inbound_replay,
    inbound_store,
    subject_normalize,
)
from outreach.replies.parsing import UnparseableEmail
from sdr.models import Activity
from sdr.states import sweep
from tests.factories import (
    CampaignFactory,
    CompanyFactory,
    EnrollmentFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    SequenceStepFactory,
)

SENT_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
Status = InboundEmail.Status
Match = Reply.ThreadMatch


@pytest.fixture
def handled(monkeypatch):
    """What ingest hands to handling: [(reply, parsed)]."""
    calls: list = []
    monkeypatch.setattr(
        "outreach.replies.handling.reply_handle",
        lambda reply, parsed: calls.append((reply, parsed)),
    )
    return calls


@pytest.fixture
def mailbox(workspace):
    return MailboxFactory(workspace=workspace, from_email="sam@pickwell.example")


@pytest.fixture
def company(workspace):
    return CompanyFactory(workspace=workspace, domain="acme.example", name="Acme")


@pytest.fixture
def lead(workspace, company):
    return LeadFactory(workspace=workspace, company=company, email="dana@acme.example")


@pytest.fixture
def enrollment(workspace, lead, mailbox):
    campaign = CampaignFactory(workspace=workspace)
    for order in (1, 2):
        SequenceStepFactory(workspace=workspace, campaign=campaign, order=order)
    return EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead, mailbox=mailbox)


def sent(enrollment, *, order: int, subject: str, message_id: str, days: int = 0) -> Message:
    step = SequenceStep.unscoped_objects.get(campaign=enrollment.campaign, order=order)
    return MessageFactory(
        workspace=enrollment.workspace,
        enrollment=enrollment,
        step=step,
        status=Message.Status.SENT,
        subject=subject,
        mailbox=enrollment.mailbox,
        to_email=enrollment.lead.email,
        message_id_header=message_id,
        sent_at=SENT_AT + timedelta(days=days),
    )


@pytest.fixture
def first(enrollment):
    return sent(
        enrollment, order=1, subject="Your new Leeds warehouse", message_id="<m1@pickwell.example>"
    )


@pytest.fixture
def follow_up(enrollment, first):
    return sent(
        enrollment,
        order=2,
        subject="Re: Your new Leeds warehouse",
        message_id="<m2@pickwell.example>",
        days=3,
    )


def eml(
    *,
    sender: str = "Dana Lee <dana@acme.example>",
    subject: str = "Re: Your new Leeds warehouse",
    body: str = "Sounds good, call me Tuesday.",
    message_id: str = "<r1@acme.example>",
    in_reply_to: str = "",
    references: str = "",
) -> bytes:
    headers = [
        f"From: {sender}",
        "To: Sam Seller <sam@pickwell.example>",
        f"Subject: {subject}",
        f"Date: {format_datetime(SENT_AT + timedelta(days=5))}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(f"References: {references}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def bounce(address: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.acme.example>\r\n"
        "To: sam@pickwell.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(SENT_AT + timedelta(days=1))}\r\n"
        "Message-ID: <dsn1@mx.acme.example>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.acme.example\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 No such user\r\n\r\n"
        "--b1--\r\n"
    ).encode()


def ingest_one(workspace, raw: bytes, **kwargs) -> InboundEmail:
    inbound, _ = inbound_store(workspace, raw, source=InboundEmail.Source.FILE, **kwargs)
    inbound_process(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    return inbound


def reply_of(inbound: InboundEmail) -> Reply:
    return Reply.objects.for_workspace(inbound.workspace).get(inbound=inbound)


# --- storing -------------------------------------------------------------------------------


def test_raw_bytes_are_stored_first_and_once(workspace):
    raw = eml()
    inbound, created = inbound_store(workspace, raw, source=InboundEmail.Source.WEBHOOK)
    again, created_again = inbound_store(workspace, raw, source=InboundEmail.Source.WEBHOOK)

    assert created and not created_again
    assert again.pk == inbound.pk
    stored = InboundEmail.objects.for_workspace(workspace).get()
    assert bytes(stored.raw) == raw and stored.size == len(raw)
    assert stored.status == Status.RECEIVED
    assert Activity.objects.for_workspace(workspace).filter(type="inbound.received").count() == 1


def test_the_same_bytes_in_another_workspace_are_that_workspace_s_own(workspace, other_workspace):
    raw = eml()
    mine, _ = inbound_store(workspace, raw, source=InboundEmail.Source.FILE)
    theirs, created = inbound_store(other_workspace, raw, source=InboundEmail.Source.FILE)
    assert created and theirs.pk != mine.pk


def test_an_oversized_message_is_kept_in_part_and_flagged_not_dropped(workspace, settings):
    settings.INBOUND_MAX_BYTES = 2000
    raw = eml(body="x" * 5000)

    inbound, created = inbound_store(workspace, raw, source=InboundEmail.Source.FILE)

    assert created and inbound.status == Status.UNPARSEABLE
    assert inbound.size == len(raw) and len(bytes(inbound.raw)) == 2000
    assert "over the limit" in inbound.error
    assert bytes(inbound.raw).startswith(b"From: Dana Lee")  # who sent it can still be seen


# --- processing ----------------------------------------------------------------------------


def test_a_reply_is_threaded_by_in_reply_to_and_handed_to_handling(
    workspace, first, follow_up, handled
):
    inbound = ingest_one(
        workspace, eml(in_reply_to="<m1@pickwell.example>", references="<m1@pickwell.example>")
    )

    assert inbound.status == Status.PROCESSED and inbound.processed_at is not None
    reply = reply_of(inbound)
    assert reply.thread_match == Match.IN_REPLY_TO
    assert reply.message == first and reply.lead == first.enrollment.lead
    assert reply.enrollment == first.enrollment
    assert reply.from_email == "dana@acme.example" and reply.message_id_header == "r1@acme.example"
    assert reply.received_at == inbound.created_at
    reply.lead.refresh_from_db()
    assert reply.lead.last_activity_at == reply.received_at  # the leads list sorts by it
    assert len(handled) == 1
    assert handled[0][0] == reply and handled[0][1].in_reply_to == "m1@pickwell.example"
    assert (
        Activity.objects.for_workspace(workspace)
        .filter(type="reply.received", object_id=str(reply.pk))
        .exists()
    )


def test_references_alone_find_the_newest_of_our_messages(workspace, first, follow_up, handled):
    raw = eml(
        sender="someone@elsewhere.example",
        references="<unknown@x.example> <m1@pickwell.example> <m2@pickwell.example> <z@y>",
    )
    reply = reply_of(ingest_one(workspace, raw))
    assert reply.thread_match == Match.REFERENCES and reply.message == follow_up


def test_sender_and_subject_find_the_thread_without_headers(workspace, first, follow_up, handled):
    second_campaign_step = sent(
        EnrollmentFactory(
            workspace=workspace,
            campaign=SequenceStepFactory(workspace=workspace, order=1).campaign,
            lead=first.enrollment.lead,
            status=Enrollment.Status.STOPPED,  # one active enrollment per lead
        ),
        order=1,
        subject="Something else entirely",
        message_id="<m3@pickwell.example>",
        days=5,
    )
    raw = eml(sender="DANA@ACME.EXAMPLE", subject="AW: RE : Your new  Leeds warehouse")

    reply = reply_of(ingest_one(workspace, raw))

    assert reply.thread_match == Match.ADDRESS_SUBJECT
    assert reply.message == follow_up  # the latest with that subject, not the latest at all
    assert second_campaign_step.sent_at > follow_up.sent_at


def test_the_sender_alone_finds_the_latest_message_to_them(workspace, first, follow_up, handled):
    reply = reply_of(ingest_one(workspace, eml(subject="Quick question")))
    assert reply.thread_match == Match.ADDRESS and reply.message == follow_up


def test_a_lead_we_never_wrote_to_is_still_known(workspace, handled):
    LeadFactory(workspace=workspace, email="new@fresh.example")
    inbound = ingest_one(workspace, eml(sender="new@fresh.example"))
    reply = reply_of(inbound)
    assert reply.thread_match == Match.ADDRESS and reply.message is None
    assert reply.lead.email == "new@fresh.example" and inbound.status == Status.PROCESSED


def test_a_colleague_at_the_lead_s_company_joins_the_lead_s_thread(
    workspace, first, follow_up, handled
):
    raw = eml(sender="Bob <bob@mail.acme.example>", subject="Dana is on leave")
    reply = reply_of(ingest_one(workspace, raw))
    assert reply.thread_match == Match.COLLEAGUE
    assert reply.message == follow_up and reply.lead == first.enrollment.lead
    assert reply.from_email == "bob@mail.acme.example"


def test_free_mail_senders_are_nobody_s_colleague(workspace, lead, first, handled):
    lead.company.domain = "gmail.com"
    lead.company.save()
    inbound = ingest_one(workspace, eml(sender="stranger@gmail.com", subject="Hi"))
    assert reply_of(inbound).thread_match == Match.NONE


def test_a_bounce_is_threaded_by_the_address_that_bounced(workspace, first, follow_up, handled):
    inbound = ingest_one(workspace, bounce("dana@acme.example"))
    reply = reply_of(inbound)
    assert reply.thread_match == Match.BOUNCED_ADDRESS and reply.message == follow_up
    assert reply.is_bounce and reply.bounced[0]["address"] == "dana@acme.example"


def test_a_message_that_answers_nothing_of_ours_is_kept_unmatched(workspace, first, handled):
    inbound = ingest_one(workspace, eml(sender="press@news.example", subject="Newsletter"))
    assert inbound.status == Status.UNMATCHED
    reply = reply_of(inbound)
    assert reply.thread_match == Match.NONE and reply.lead is None and reply.message is None
    assert len(handled) == 1  # still classified, for the inbox


def test_another_workspace_s_message_id_is_not_ours(workspace, neighbour, handled):
    theirs = neighbour.rows[Message]
    theirs.message_id_header = "<theirs@zebulon.example>"
    theirs.save()
    inbound = ingest_one(
        workspace, eml(in_reply_to="<theirs@zebulon.example>", sender="x@y.example")
    )
    assert reply_of(inbound).thread_match == Match.NONE


def test_a_copy_of_our_own_message_is_not_a_reply(workspace, first, handled):
    raw = eml(sender="sam@pickwell.example", message_id="<m1@pickwell.example>")
    inbound = ingest_one(workspace, raw)
    assert inbound.status == Status.UNMATCHED and "our own" in inbound.error
    assert not Reply.objects.for_workspace(workspace).exists() and handled == []


def test_an_unparseable_message_is_kept_and_flagged(workspace, handled, monkeypatch):
    def refuse(raw, *, received_at=None):
        raise UnparseableEmail("no mail headers were found")

    monkeypatch.setattr(ingest, "parse_raw", refuse)
    raw = b"\x00\x01 not an email at all"

    inbound = ingest_one(workspace, raw)

    assert inbound.status == Status.UNPARSEABLE
    assert inbound.error == "no mail headers were found"
    assert bytes(inbound.raw) == raw
    assert not Reply.objects.for_workspace(workspace).exists() and handled == []


def test_a_replay_reads_again_what_failed_and_brings_the_reply_up_to_date(
    workspace, first, handled, monkeypatch
):
    real = ingest.parse_raw
    monkeypatch.setattr(
        ingest,
        "parse_raw",
        lambda raw, *, received_at=None: (_ for _ in ()).throw(UnparseableEmail("parser bug")),
    )
    broken = ingest_one(workspace, eml(in_reply_to="<m1@pickwell.example>"))
    unmatched = ingest_one(workspace, eml(sender="x@y.example", message_id="<u@y.example>"))
    monkeypatch.setattr(ingest, "parse_raw", real)

    moved = inbound_replay(InboundEmail.objects.for_workspace(workspace), hint=False)
    assert set(moved) == {broken.pk, unmatched.pk}
    for inbound_id in moved:
        inbound_process(inbound_id=inbound_id)

    broken.refresh_from_db()
    assert broken.status == Status.PROCESSED and broken.error == ""
    assert reply_of(broken).thread_match == Match.IN_REPLY_TO
    assert Reply.objects.for_workspace(workspace).count() == 2  # one each, none twice


def test_text_postgresql_cannot_store_is_dropped_not_fatal(workspace, first, handled):
    raw = eml(in_reply_to="<m1@pickwell.example>", body="Call me\x00 Tuesday.")
    inbound = ingest_one(workspace, raw)
    assert inbound.status == Status.PROCESSED
    assert "\x00" not in reply_of(inbound).text and "Tuesday" in reply_of(inbound).text


def test_a_stored_message_is_read_by_one_worker_only(workspace, first, handled):
    inbound, _ = inbound_store(workspace, eml(), source=InboundEmail.Source.FILE, hint=False)
    assert inbound_process(inbound_id=inbound.pk) is not None
    assert inbound_process(inbound_id=inbound.pk) is None
    assert len(handled) == 1


def test_a_crash_in_handling_keeps_the_message_for_a_replay(workspace, first, monkeypatch):
    def crash(reply, parsed):
        raise RuntimeError("bug")

    monkeypatch.setattr("outreach.replies.handling.reply_handle", crash)
    inbound, _ = inbound_store(workspace, eml(), source=InboundEmail.Source.FILE, hint=False)
    with pytest.raises(RuntimeError):
        inbound_process(inbound_id=inbound.pk)
    inbound.refresh_from_db()
    assert inbound.status == Status.UNPARSEABLE and "Internal error" in inbound.error
    assert inbound.claim_token is None


def test_the_sweeper_returns_a_message_whose_worker_died(workspace):
    inbound, _ = inbound_store(workspace, eml(), source=InboundEmail.Source.FILE, hint=False)
    InboundEmail.objects.for_workspace(workspace).filter(pk=inbound.pk).update(
        status=Status.PROCESSING,
        attempts=1,
        claimed_until=datetime.now(UTC) - timedelta(seconds=1),
    )
    report = sweep()

    assert report.expired.get("inbound_email") == 1
    inbound.refresh_from_db()
    # Back to RECEIVED and hinted again: with eager tasks, read again at once.
    assert inbound.status == Status.UNMATCHED and inbound.attempts == 2


@pytest.mark.parametrize(
    ("subject", "normalized"),
    [
        ("Re: Hello", "hello"),
        ("RE : AW: Sv: hello", "hello"),
        ("Antw: Fwd: WG: Hello  there", "hello there"),
        ("Re[2]: Hello", "hello"),
        ("[External] Re: Hello", "hello"),
        ("回复: Hello", "hello"),
        ("Regarding the offer", "regarding the offer"),
        ("", ""),
    ],
)
def test_subjects_lose_their_reply_prefixes_in_many_languages(subject, normalized):
    assert subject_normalize(subject) == normalized


# --- the command ------------------------------------------------------------------------


def test_ingest_eml_reads_each_file_and_reports_the_bad_ones(workspace, first, tmp_path, mailbox):
    good = tmp_path / "reply.eml"
    good.write_bytes(eml(in_reply_to="<m1@pickwell.example>", body="Not interested, thanks."))
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="2 of 3 files"):
        call_command(
            "ingest_eml",
            str(good),
            str(tmp_path / "missing.eml"),
            str(empty),
            workspace="acme",
            mailbox="SAM@pickwell.example",
            stdout=out,
            stderr=err,
        )

    reply = Reply.objects.for_workspace(workspace).get()
    assert reply.inbound.mailbox == mailbox and reply.inbound.source == InboundEmail.Source.FILE
    assert f"inbound {reply.inbound.pk} processed, reply {reply.category}" in out.getvalue()
    assert "(thread: in_reply_to)" in out.getvalue()
    assert "missing.eml: cannot be read" in err.getvalue()
    assert "empty.eml: the file is empty" in err.getvalue()


def test_ingest_eml_says_when_a_file_was_stored_before(workspace, tmp_path):
    path = tmp_path / "r.eml"
    path.write_bytes(eml(sender="x@y.example"))
    call_command("ingest_eml", str(path), workspace="acme", stdout=io.StringIO())
    out = io.StringIO()
    call_command("ingest_eml", str(path), workspace="acme", stdout=out)
    assert "unmatched (stored before)" in out.getvalue()


def test_inbound_replay_command_reads_the_unparseable_again(workspace, handled, monkeypatch):
    monkeypatch.setattr(
        ingest,
        "parse_raw",
        lambda raw, *, received_at=None: (_ for _ in ()).throw(UnparseableEmail("parser bug")),
    )
    inbound = ingest_one(workspace, eml(sender="x@y.example"))
    monkeypatch.undo()
    monkeypatch.setattr("outreach.replies.handling.reply_handle", lambda reply, parsed: None)
    out = io.StringIO()
    call_command("inbound_replay", workspace="acme", stdout=out)
    assert f"inbound {inbound.pk} unmatched" in out.getvalue()
    assert "1 message(s) read again." in out.getvalue()
