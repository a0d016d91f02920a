"""One-click unsubscribe (RFC 8058): the signed link in every email, and what it does.

The link carries the workspace and the message, signed with the server's secret and a
salt of its own, so it cannot be forged or pointed at another address, and it needs no
login. It does not expire: people unsubscribe from old emails, and the law expects the
link to keep working. A POST (the mail client's one-click, or the confirm button on the
page) suppresses the address at once and records an "unsubscribed" outcome, which stops
the lead's sequences. A GET only shows the page: mail scanners follow links, and a
scanner must not unsubscribe anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from leads.contactability import suppression_add
from leads.models import Suppression
from outreach.models import Message, Outcome
from outreach.outcomes import outcome_record

SALT = "outreach.unsubscribe"


class BadToken(Exception):
    """The link was altered, cut short, or not made by us."""


@dataclass(frozen=True)
class Unsubscribed:
    message: Message | None  # None when the message is gone (the person was erased)
    address: str


def unsubscribe_token(*, message: Message) -> str:
    return signing.dumps({"w": str(message.workspace_id), "m": str(message.pk)}, salt=SALT)


def unsubscribe_url(*, message: Message) -> str:
    path = reverse("unsubscribe", kwargs={"token": unsubscribe_token(message=message)})
    return f"{settings.PUBLIC_BASE_URL}{path}"


def unsubscribe_token_read(token: str) -> tuple[str, str]:
    """The workspace and message ids a link was made for; BadToken if it is not ours."""
    try:
        payload = signing.loads(token, salt=SALT)
        return str(payload["w"]), str(payload["m"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken from None


def unsubscribe_resolve(*, token: str) -> Message | None:
    """The message a link was made for; None if it no longer exists; BadToken if the link
    is not one of ours."""
    workspace_id, message_id = unsubscribe_token_read(token)
    return (
        Message.unscoped_objects.filter(workspace_id=workspace_id, pk=message_id)
        .select_related("workspace", "mailbox", "enrollment__lead", "enrollment__campaign")
        .first()
    )


def unsubscribe(*, token: str) -> Unsubscribed:
    """Suppress the address the message went to and record the outcome. Doing it twice is
    harmless: the suppression and the outcome are each recorded once."""
    message = unsubscribe_resolve(token=token)
    if message is None:
        # The message was deleted with its lead (an erasure keeps the address's hash on
        # the suppression list), or with the whole workspace: nobody is left to mail.
        return Unsubscribed(message=None, address="")
    lead = message.enrollment.lead
    address = message.to_email or lead.email
    evidence = f"Unsubscribed with the link in the email {message.message_id_header or message.pk}"
    with transaction.atomic():
        if address:
            suppression_add(
                workspace=message.workspace,
                value=address,
                reason=evidence,
                source=Suppression.Source.UNSUBSCRIBE,
            )
        outcome_record(
            lead=lead,
            kind=Outcome.Kind.UNSUBSCRIBED,
            evidence=evidence,
            source=Outcome.Source.SYSTEM,
            evidence_type="message",
            evidence_id=message.pk,
        )
    return Unsubscribed(message=message, address=address)


def address_masked(address: str) -> str:
    """ "d***@acme.example": enough for the person to recognise, little for anyone else."""
    local, at, domain = address.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else ""
