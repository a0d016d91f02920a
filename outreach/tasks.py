from celery import Task, shared_task


@shared_task(name="draft.message", bind=True, max_retries=6)
def draft_message_task(self: Task, message_id: str) -> None:
    from outreach.drafting import DraftRetryLater
    from outreach.messages import draft_retry_delay, message_draft_by_id

    try:
        message_draft_by_id(message_id=message_id)
    except DraftRetryLater as error:
        # Rate limits, timeouts and 5xx: try again later; the message stays drafting.
        raise self.retry(exc=error, countdown=draft_retry_delay(self.request.retries)) from error


@shared_task(name="send.dispatch_due")
def dispatch_due_task() -> None:
    from outreach.dispatch import dispatch_due

    dispatch_due()


@shared_task(name="send.repair_sequences")
def repair_sequences_task() -> int:
    from outreach.sequence_advance import sequences_repair

    return sequences_repair()


@shared_task(name="send.record_no_response")
def record_no_response_task() -> None:
    from outreach.sequences import enrollments_record_no_response

    enrollments_record_no_response()


@shared_task(name="send.message")
def send_message_task(message_id: str) -> None:
    from outreach.sending import message_send

    message_send(message_id=message_id)


@shared_task(name="ingest.process_inbound")
def process_inbound_task(inbound_id: str) -> None:
    from outreach.replies.ingest import inbound_process

    inbound_process(inbound_id=inbound_id)


@shared_task(name="ingest.poll_imap")
def poll_imap_task() -> None:
    from outreach.replies.imap import mailboxes_poll

    mailboxes_poll()
