from celery import Task, shared_task

from sdr import rls


@shared_task(name="draft.message", bind=True, max_retries=6)
def draft_message_task(self: Task, message_id: str) -> None:
    from outreach.drafting import DraftRetryLater
    from outreach.messages import draft_retry_delay, message_draft_by_id
    from outreach.models import Message

    try:
        with rls.workspace_of(Message, message_id):
            message_draft_by_id(message_id=message_id)
    except DraftRetryLater as error:
        # Rate limits, timeouts and 5xx: try again later; the message stays drafting.
        raise self.retry(exc=error, countdown=draft_retry_delay(self.request.retries)) from error


@shared_task(name="send.dispatch_due")
def dispatch_due_task() -> None:
    from outreach.dispatch import dispatch_due

    with rls.cross_workspace():
        dispatch_due()


@shared_task(name="send.repair_sequences")
def repair_sequences_task() -> int:
    from outreach.sequence_advance import sequences_repair

    with rls.cross_workspace():
        return sequences_repair()


@shared_task(name="send.record_no_response")
def record_no_response_task() -> None:
    from outreach.sequences import enrollments_record_no_response

    with rls.cross_workspace():
        enrollments_record_no_response()


@shared_task(name="send.message")
def send_message_task(message_id: str) -> None:
    from outreach.models import Message
    from outreach.sending import message_send

    with rls.workspace_of(Message, message_id):
        message_send(message_id=message_id)


@shared_task(name="ingest.process_inbound")
def process_inbound_task(inbound_id: str) -> None:
    from outreach.models import InboundEmail
    from outreach.replies.ingest import inbound_process

    with rls.workspace_of(InboundEmail, inbound_id):
        inbound_process(inbound_id=inbound_id)


@shared_task(name="send.check_unknown")
def check_unknown_task() -> None:
    from outreach.unknown import unknown_messages_check

    with rls.cross_workspace():
        unknown_messages_check()


@shared_task(name="ingest.poll_imap")
def poll_imap_task() -> None:
    from outreach.replies.imap import mailboxes_poll

    with rls.cross_workspace():
        mailboxes_poll()
