"""Reads shared by the outreach API and web views."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from outreach.models import Campaign, Message
from sdr.models import Workspace

REVIEW_QUEUE = [Message.Status.PENDING_REVIEW, Message.Status.HELD]


def campaign_list(*, workspace: Workspace) -> QuerySet[Campaign]:
    return Campaign.objects.for_workspace(workspace).annotate(
        enrolled=Count("enrollments", distinct=True),
        to_review=Count(
            "enrollments__messages",
            distinct=True,
            filter=Q(enrollments__messages__status__in=REVIEW_QUEUE),
        ),
    )


def message_list(
    *, workspace: Workspace, status: str = "", campaign_id: str = ""
) -> QuerySet[Message]:
    messages = Message.objects.for_workspace(workspace).select_related(
        "enrollment__lead__company", "enrollment__campaign", "step", "workspace"
    )
    if status:
        messages = messages.filter(status__in=status.split(","))
    if campaign_id:
        messages = messages.filter(enrollment__campaign_id=campaign_id)
    return messages


def review_queue(*, workspace: Workspace, campaign_id: str = "") -> QuerySet[Message]:
    # Held drafts first ("held" sorts before "pending_review"): they need a person most;
    # then the oldest waiting.
    return (
        message_list(workspace=workspace, campaign_id=campaign_id)
        .filter(status__in=REVIEW_QUEUE)
        .order_by("status", "created_at")
    )


def campaign_choices(*, workspace: Workspace, open_only: bool = False) -> list[tuple[str, str]]:
    """(id, name) of the workspace's campaigns by name: all of them (their results still
    count), or with `open_only` those leads can still join (not archived)."""
    campaigns = Campaign.objects.for_workspace(workspace).order_by("name")
    if open_only:
        campaigns = campaigns.exclude(status=Campaign.Status.ARCHIVED)
    return [(str(pk), name) for pk, name in campaigns.values_list("pk", "name")]


def campaign_message_counts(*, campaign: Campaign) -> dict[str, int]:
    rows = (
        Message.objects.for_workspace(campaign.workspace)
        .filter(enrollment__campaign=campaign)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def funnel_cards(*, workspace: Workspace) -> list[dict[str, object]]:
    from django.urls import reverse

    counts = Message.objects.for_workspace(workspace).aggregate(
        drafted=Count("pk", filter=~Q(status=Message.Status.DRAFTING)),
        to_review=Count("pk", filter=Q(status__in=REVIEW_QUEUE)),
        approved=Count("pk", filter=Q(status=Message.Status.APPROVED)),
        unknown=Count("pk", filter=Q(status=Message.Status.UNKNOWN)),
    )
    cards: list[dict[str, object]] = [
        {"label": "Drafts written", "value": counts["drafted"], "url": reverse("campaign-list")},
        {
            "label": "Waiting for review",
            "value": counts["to_review"],
            "url": reverse("review-queue"),
        },
        {"label": "Approved to send", "value": counts["approved"], "url": reverse("campaign-list")},
    ]
    if counts["unknown"]:
        # Interrupted sends wait for a person (outreach/unknown.py): the oldest first.
        oldest = (
            Message.objects.for_workspace(workspace)
            .filter(status=Message.Status.UNKNOWN)
            .order_by("updated_at", "pk")
            .values_list("pk", flat=True)
            .first()
        )
        cards.append(
            {
                "label": "Sends to check",
                "value": counts["unknown"],
                "url": reverse("message-review", args=[oldest]),
                "note": "Interrupted: did they go out? Check the Sent folder.",
            }
        )
    return cards


def message_waiting_reason(*, message: Message, now: datetime | None = None) -> str:
    """Why an approved message has not gone out yet, in words for the UI ("" otherwise).

    The dispatcher's last word (`hold_reason`: window, caps, campaign paused) comes first;
    before its first pass over the message, the undo window or the step's due time.
    """
    from outreach.dispatch import SendWindow, approval_grace

    if message.status != Message.Status.APPROVED:
        return ""
    if message.hold_reason:
        return message.hold_reason
    now = now or timezone.now()
    if message.approved_at is not None and message.approved_at + approval_grace() > now:
        until = message.approved_at + approval_grace()
        return f"in the undo window until {until:%H:%M:%S} UTC"
    if message.due_at is not None and message.due_at > now:
        window = SendWindow.for_message(message)
        local = message.due_at.astimezone(window.zone)
        return f"next step due {local:%a} {local.day} {local:%b %H:%M} {window.zone.key}"
    return "waiting for the next dispatch (every minute)"
