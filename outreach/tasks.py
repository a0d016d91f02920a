from celery import shared_task


@shared_task(name="draft.message")
def draft_message_task(message_id: str) -> None:
    from outreach.messages import message_draft_by_id

    message_draft_by_id(message_id=message_id)
