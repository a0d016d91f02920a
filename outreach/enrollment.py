"""Enrolling leads into a campaign: the best-ranked eligible ones, each in one campaign."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from leads.models import Lead
from outreach.messages import messages_enqueue_drafting
from outreach.models import Campaign, Enrollment, Message, SequenceStep
from outreach.suppression import suppressed_emails

# Leads in these states have answered, opted out or cannot be reached.
NOT_ELIGIBLE = [
    Lead.Status.REPLIED,
    Lead.Status.MEETING,
    Lead.Status.NOT_INTERESTED,
    Lead.Status.UNSUBSCRIBED,
    Lead.Status.BOUNCED,
    Lead.Status.DO_NOT_CONTACT,
]


@dataclass
class EnrollResult:
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def eligible_leads(*, campaign: Campaign) -> QuerySet[Lead]:
    """Leads that may be enrolled, best first (by ranking once it exists: newest until then)."""
    active_elsewhere = Enrollment.objects.for_workspace(campaign.workspace).filter(
        lead=OuterRef("pk"), status=Enrollment.Status.ACTIVE
    )
    in_this_campaign = Enrollment.objects.for_workspace(campaign.workspace).filter(
        lead=OuterRef("pk"), campaign=campaign
    )
    return (
        Lead.objects.for_workspace(campaign.workspace)
        .exclude(email="")
        .exclude(status__in=NOT_ELIGIBLE)
        .exclude(Exists(active_elsewhere))
        .exclude(Exists(in_this_campaign))
        .order_by("-created_at", "-id")
    )


def campaign_enroll(
    *, campaign: Campaign, limit: int = 100, lead_ids: Iterable | None = None
) -> EnrollResult:
    result = EnrollResult()
    first_step = campaign.steps.order_by("order").first()
    if first_step is None or first_step.kind != SequenceStep.Kind.FIRST_TOUCH:
        from sdr.errors import AppError, ErrorCode

        raise AppError(ErrorCode.INVALID, "The campaign has no first-touch step to send.")
    candidates = eligible_leads(campaign=campaign)
    if lead_ids is not None:
        wanted = {str(i) for i in lead_ids}
        candidates = candidates.filter(pk__in=wanted)
        result.skip(
            "not eligible (no email, already active, opted out or enrolled)",
            len(wanted) - candidates.count(),
        )
    leads = list(candidates[:limit])
    blocked = suppressed_emails(workspace=campaign.workspace, emails=[lead.email for lead in leads])
    result.skip("suppressed", sum(1 for lead in leads if lead.email in blocked))
    leads = [lead for lead in leads if lead.email not in blocked]

    with transaction.atomic():
        enrollments = [
            Enrollment(
                workspace=campaign.workspace, campaign=campaign, lead=lead, current_step=first_step
            )
            for lead in leads
        ]
        # ignore_conflicts: a lead enrolled elsewhere a moment ago hits the one-active-per-
        # lead index and is skipped here instead of failing the whole batch.
        Enrollment.unscoped_objects.bulk_create(enrollments, ignore_conflicts=True)
        created = list(
            Enrollment.objects.for_workspace(campaign.workspace)
            .filter(campaign=campaign, lead__in=leads, status=Enrollment.Status.ACTIVE)
            .filter(pk__in=[e.pk for e in enrollments])
            .select_related("lead")
        )
        result.skip("enrolled elsewhere meanwhile", len(leads) - len(created))
        Lead.objects.for_workspace(campaign.workspace).filter(
            pk__in=[e.lead_id for e in created]
        ).update(status=Lead.Status.ACTIVE)
        messages = [
            Message(workspace=campaign.workspace, enrollment=e, step=first_step) for e in created
        ]
        Message.unscoped_objects.bulk_create(messages)
        messages_enqueue_drafting(message_ids=[m.pk for m in messages])
    result.enrolled = created
    return result
