from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from outreach.models import Message
        from outreach.tasks import draft_message_task
        from sdr.queue import hint_each
        from sdr.states import Expiry, StateMachine, register

        # DRAFTING is both the waiting and the working state: a worker claims the message
        # in place with a lease, and a message without one is waiting for a worker.
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
                    )
                },
                queued=(Message.Status.DRAFTING,),
                start=lambda ids: hint_each(draft_message_task, ids),
            )
        )
