"""Reads shared by the outreach API and web views."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

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
        "enrollment__lead__company", "enrollment__campaign", "step"
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
    )
    return [
        {"label": "Drafts written", "value": counts["drafted"], "url": reverse("campaign-list")},
        {
            "label": "Waiting for review",
            "value": counts["to_review"],
            "url": reverse("review-queue"),
        },
        {"label": "Approved to send", "value": counts["approved"], "url": reverse("campaign-list")},
    ]
