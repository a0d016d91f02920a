"""Reads of replies that the inbox page and the API share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from outreach.models import Message, Reply
from sdr.models import Workspace

# Our messages that are part of a thread as the lead saw it.
_SENT = [Message.Status.SENT, Message.Status.UNKNOWN]


def reply_list(
    *,
    workspace: Workspace,
    category: str = "",
    lead_id: Any = None,
    received_after: datetime | None = None,
) -> QuerySet[Reply]:
    """Newest first; `category` may name several, comma-separated."""
    replies = Reply.objects.for_workspace(workspace).select_related(
        "lead__company", "enrollment__campaign"
    )
    if category:
        replies = replies.filter(category__in=category.split(","))
    if lead_id:
        replies = replies.filter(lead_id=lead_id)
    if received_after is not None:
        replies = replies.filter(received_at__gt=received_after)
    return replies.order_by("-received_at", "-pk")


def reply_category_counts(*, workspace: Workspace) -> dict[str, int]:
    rows = (
        Reply.objects.for_workspace(workspace)
        .values_list("category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


@dataclass(frozen=True)
class ThreadItem:
    """One email of a thread: ours (a Message) or theirs (a Reply), with when it happened."""

    at: datetime
    ours: bool
    message: Message | None = None
    reply: Reply | None = None


def reply_thread(*, reply: Reply) -> list[ThreadItem]:
    """The whole conversation with the reply's lead in its enrollment: our sent emails
    (and an answer on its way) and every reply, oldest first."""
    workspace = reply.workspace
    if reply.enrollment_id is None:
        return [ThreadItem(reply.received_at, False, reply=reply)]
    messages = Message.objects.for_workspace(workspace).filter(
        Q(status__in=_SENT) | Q(kind=Message.Kind.ANSWER), enrollment_id=reply.enrollment_id
    )
    replies = Reply.objects.for_workspace(workspace).filter(
        Q(enrollment_id=reply.enrollment_id) | Q(pk=reply.pk)
    )
    items = [ThreadItem(m.sent_at or m.updated_at, True, message=m) for m in messages]
    items += [ThreadItem(r.received_at, False, reply=r) for r in replies]
    return sorted(items, key=lambda item: item.at)
