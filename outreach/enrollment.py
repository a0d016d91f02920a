"""Enrolling leads into a campaign: the best-ranked eligible ones, each in one campaign."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from leads.contactability import suppressed_emails
from leads.models import Lead
from outreach.enrollment_status import enrollments_move
from outreach.messages import messages_enqueue_drafting
from outreach.models import Campaign, Enrollment, Message, Outcome, SequenceStep
from outreach.outcomes import FINAL
from sdr.activity import Event, activities_record, activity_record
from sdr.errors import AppError, ErrorCode

# The order of `eligible_leads` (see there).
BEST_FIRST = (F("score").desc(nulls_last=True), "-created_at", "-id")


@dataclass
class EnrollResult:
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count


def eligible_leads(*, campaign: Campaign) -> QuerySet[Lead]:
    """Leads that may be enrolled, best first: highest score (`Lead.score`, written by the
    ranking), unscored ones last (the ranking has not seen them yet); among equals the
    newest first, as before there was a ranking."""
    active_elsewhere = Enrollment.objects.for_workspace(campaign.workspace).filter(
        lead=OuterRef("pk"), status=Enrollment.Status.ACTIVE
    )
    in_this_campaign = Enrollment.objects.for_workspace(campaign.workspace).filter(
        lead=OuterRef("pk"), campaign=campaign
    )
    # Answered, opted out or unreachable: the outcome table says so, not a lead field that
    # an import could overwrite. Suppressions are checked on the chosen few (they match
    # by hash and by domain) in `campaign_enroll`.
    final_outcome = Outcome.objects.for_workspace(campaign.workspace).filter(
        lead=OuterRef("pk"), kind__in=FINAL
    )
    return (
        Lead.objects.for_workspace(campaign.workspace)
        .exclude(email="")
        .exclude(Exists(final_outcome))
        .exclude(Exists(active_elsewhere))
        .exclude(Exists(in_this_campaign))
        .order_by(*BEST_FIRST)
    )


def _eligible_among(campaign: Campaign, lead_ids: set[uuid.UUID]) -> QuerySet[Lead]:
    """`eligible_leads` narrowed to `lead_ids`, asked through the indexes on lead ids.

    PostgreSQL plans `eligible_leads`' anti-joins from its statistics, which lag behind a
    workspace that grows fast: before it had counted a new workspace's enrollments, it
    compared each of 5,000 leads with every enrollment of the workspace (2.6 s at 20,000
    leads, more with each wave, against 25 ms once the tables were analysed). Looked up by
    lead id, the plan does not depend on how many rows the workspace has.
    """
    workspace = campaign.workspace
    enrolled = (
        Enrollment.objects.for_workspace(workspace)
        .filter(lead_id__any=list(lead_ids))
        .filter(Q(status=Enrollment.Status.ACTIVE) | Q(campaign=campaign))
        .values_list("lead_id", flat=True)
    )
    answered = (
        Outcome.objects.for_workspace(workspace)
        .filter(lead_id__any=list(lead_ids), kind__in=FINAL)
        .values_list("lead_id", flat=True)
    )
    open_to_enroll = lead_ids - {*enrolled, *answered}
    return (
        Lead.objects.for_workspace(workspace)
        .filter(pk__any=list(open_to_enroll))
        .exclude(email="")
        .order_by(*BEST_FIRST)
    )


def campaign_enroll(
    *, campaign: Campaign, limit: int = 100, lead_ids: Iterable | None = None
) -> EnrollResult:
    """Enroll up to `limit` eligible leads (or those of `lead_ids` that are eligible).

    An archived campaign takes no one: it will never write again, and its enrollments
    would hold the leads out of every other campaign. Draft and paused campaigns do take
    leads: their drafts are written and reviewed now, and sending (which must check the
    campaign's status, not the enrollment's) waits until the campaign is active.
    """
    _refuse_archived(campaign)
    result = EnrollResult()
    first_step = campaign.steps.order_by("order").first()
    if first_step is None or first_step.kind != SequenceStep.Kind.FIRST_TOUCH:
        raise AppError(ErrorCode.INVALID, "The campaign has no first-touch step to send.")
    if lead_ids is None:
        candidates = eligible_leads(campaign=campaign)
    else:
        wanted = {uuid.UUID(str(i)) for i in lead_ids}
        candidates = _eligible_among(campaign, wanted)
        result.skip(
            "not eligible (no email, already active, opted out or enrolled)",
            len(wanted) - candidates.count(),
        )
    leads = _unsuppressed(campaign, candidates, limit, result)

    with transaction.atomic():
        # Locked and asked again: an archive that committed since the first check, or that
        # runs now, must not end with leads enrolled into an archived campaign.
        _refuse_archived(campaign, lock=True)
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
            .filter(campaign=campaign, lead__any=leads, status=Enrollment.Status.ACTIVE)
            .filter(pk__any=[e.pk for e in enrollments])
            .select_related("lead")
        )
        result.skip("enrolled elsewhere meanwhile", len(leads) - len(created))
        Lead.objects.for_workspace(campaign.workspace).filter(
            pk__any=[e.lead_id for e in created]
        ).update(status=Lead.Status.ACTIVE)
        messages = [
            Message(workspace=campaign.workspace, enrollment=e, step=first_step) for e in created
        ]
        Message.unscoped_objects.bulk_create(messages)
        activities_record(
            workspace=campaign.workspace,
            events=[
                Event(
                    "enrollment.created",
                    "enrollment",
                    e.pk,
                    {"lead": str(e.lead_id), "campaign": str(campaign.pk)},
                )
                for e in created
            ],
        )
        messages_enqueue_drafting(message_ids=[m.pk for m in messages])
    result.enrolled = created
    return result


def _unsuppressed(
    campaign: Campaign, candidates: QuerySet[Lead], limit: int, result: EnrollResult
) -> list[Lead]:
    """Up to `limit` candidates, best first, skipping suppressed addresses and domains."""
    chosen: list[Lead] = []
    offset = 0
    while len(chosen) < limit:
        page = list(candidates[offset : offset + limit])
        if not page:
            break
        offset += len(page)
        blocked = suppressed_emails(workspace=campaign.workspace, emails=[x.email for x in page])
        for lead in page:
            if len(chosen) == limit:
                break
            if lead.email in blocked:
                result.skip("suppressed")
            else:
                chosen.append(lead)
    return chosen


def _refuse_archived(campaign: Campaign, *, lock: bool = False) -> None:
    """Asked of the database: the caller's object may predate an archive."""
    rows = Campaign.objects.for_workspace(campaign.workspace).filter(pk=campaign.pk)
    if lock:  # NO KEY: serialises with an archive, not with rows pointing at the campaign
        rows = rows.select_for_update(no_key=True)
    if rows.values_list("status", flat=True).get() == Campaign.Status.ARCHIVED:
        raise AppError(
            ErrorCode.CONFLICT,
            "This campaign is archived: no one can be enrolled into it.",
            status_code=409,
        )


def campaign_unenroll(*, campaign: Campaign, lead_ids: Iterable) -> int:
    """Stop the named leads' active or paused enrollments in the campaign (a person or the
    CRM took them out); returns how many stopped. Their unsent messages stay unsent: the
    dispatcher and the sender send only for active enrollments."""
    with transaction.atomic():
        stopping = enrollments_move(
            Enrollment.objects.for_workspace(campaign.workspace).filter(
                campaign=campaign,
                lead_id__in=[str(i) for i in lead_ids],
                status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED],
            ),
            status=Enrollment.Status.STOPPED,
            reason="Unenrolled",
            activity="enrollment.stopped",
            payload={"reason": "unenrolled"},
        )
        # Free to be enrolled elsewhere again.
        Lead.objects.for_workspace(campaign.workspace).filter(
            pk__in=[lead_id for _, lead_id in stopping], status=Lead.Status.ACTIVE
        ).update(status=Lead.Status.NEW, updated_at=timezone.now())
    return len(stopping)


def enrollment_pause(*, enrollment: Enrollment, reason: str = "Paused by a person") -> Enrollment:
    """Hold an active enrollment: nothing more is sent until it is resumed."""
    return _enrollment_move(
        enrollment, Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED, reason, "enrollment.paused"
    )


def enrollment_resume(*, enrollment: Enrollment) -> Enrollment:
    """Resume a paused enrollment (paused by a person, or because a colleague answered).
    A lead who became active in another campaign meanwhile cannot be resumed here (409)."""
    try:
        with transaction.atomic():
            return _enrollment_move(
                enrollment,
                Enrollment.Status.PAUSED,
                Enrollment.Status.ACTIVE,
                "",
                "enrollment.resumed",
            )
    except IntegrityError:  # the one-active-enrollment-per-lead index
        raise AppError(
            ErrorCode.CONFLICT,
            "This lead is active in another campaign now; stop that first.",
            status_code=409,
        ) from None


def _enrollment_move(
    enrollment: Enrollment, expected: str, to: str, reason: str, activity: str
) -> Enrollment:
    with transaction.atomic():
        locked = (
            Enrollment.objects.for_workspace(enrollment.workspace)
            .select_for_update(no_key=True)  # a message of its may be committing
            .get(pk=enrollment.pk)
        )
        if locked.status != expected:
            verb = "paused" if to == Enrollment.Status.PAUSED else "resumed"
            raise AppError(
                ErrorCode.CONFLICT,
                f"Only {'an active' if verb == 'paused' else 'a paused'} enrollment can be "
                f"{verb}; this one is {locked.get_status_display().lower()}.",
                status_code=409,
            )
        locked.status = to
        locked.stop_reason = reason[:300]
        locked.save(update_fields=["status", "stop_reason", "updated_at"])
        activity_record(
            workspace=locked.workspace,
            type=activity,
            object_type="enrollment",
            object_id=locked.pk,
            payload={"lead": str(locked.lead_id), "status": to},
        )
    return locked
