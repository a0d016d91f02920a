from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from outreach.models import InboundEmail, Message
        from sdr.states import Expiry, StateMachine, register

        # One machine for a message's whole life (a model has one). DRAFTING is both the
        # waiting and the working state: a worker claims the message in place with a
        # lease, and a message without one is waiting for a worker. QUEUED waits for the
        # send task; SENDING is held by it. A send whose worker vanished may or may not
        # have reached the server, so it is never retried: a person looks (UNKNOWN).
        register(
            StateMachine(
                model=Message,
                object_type="message",
                reason_field="failure_reason",
                running={
                    Message.Status.DRAFTING: Expiry(
                        retry=Message.Status.DRAFTING,
                        give_up=Message.Status.FAILED,
                        reason="Drafting stopped before it finished.",
                    ),
                    Message.Status.SENDING: Expiry(
                        retry=None,
                        give_up=Message.Status.UNKNOWN,
                        reason=(
                            "The send was interrupted: it may or may not have reached the "
                            "server. Check the mailbox's Sent folder before sending it again."
                        ),
                    ),
                },
                queued=(Message.Status.DRAFTING, Message.Status.QUEUED),
                start=messages_start,
            )
        )
        # A stored raw message waits in RECEIVED and is read under a lease in PROCESSING.
        # Reading is repeatable (the Reply is brought up to date, not made twice), so a
        # worker that vanished is retried; after three tries the message is kept, flagged,
        # for a replay once whatever stopped it is fixed.
        register(
            StateMachine(
                model=InboundEmail,
                object_type="inbound_email",
                reason_field="error",
                running={
                    InboundEmail.Status.PROCESSING: Expiry(
                        retry=InboundEmail.Status.RECEIVED,
                        give_up=InboundEmail.Status.UNPARSEABLE,
                        reason="Reading this message stopped before it finished.",
                    ),
                },
                queued=(InboundEmail.Status.RECEIVED,),
                start=inbound_start,
            )
        )


def messages_start(ids: Iterable[Any]) -> None:
    """Hint the task each waiting message needs: drafting ones to the drafter, queued ones
    to the sender. The status is read again here: a message may have moved on since the
    sweeper picked it, and the task it no longer needs would only find nothing to claim."""
    from outreach.models import Message
    from outreach.tasks import draft_message_task, send_message_task
    from sdr.queue import hint_each

    by_status: dict[str, list[Any]] = {}
    rows = Message.unscoped_objects.filter(pk__in=list(ids)).values_list("pk", "status")
    for pk, status in rows:
        by_status.setdefault(status, []).append(pk)
    hint_each(draft_message_task, by_status.get(Message.Status.DRAFTING, []))
    hint_each(send_message_task, by_status.get(Message.Status.QUEUED, []))


def inbound_start(ids: Iterable[Any]) -> None:
    """Hint the processing task for stored messages still waiting to be read."""
    from outreach.tasks import process_inbound_task
    from sdr.queue import hint_each

    hint_each(process_inbound_task, ids)
