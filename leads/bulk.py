"""Acting on many leads at once from the leads list: the ones ticked, or every lead the
list's filters match. Add to a campaign, pause or resume their sequences, tag or untag,
suppress, erase, or export as CSV.

The selection is always read back from the database within the member's workspace: ids
posted from another workspace, or made up, select nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import QueryDict

from leads import selectors, tags
from leads.contactability import suppressions_add
from leads.erasure import lead_erase
from leads.models import Lead, Suppression
from sdr.errors import AppError, ErrorCode, InvalidQuery
from sdr.models import Workspace
from sdr.spreadsheet import csv_lines

# One request does the work: enrolling and suppressing cost a fixed number of queries per
# batch, erasing about ten per lead (it reaches into every table that mentions them).
MAX_ACTED_ON = 5_000
MAX_ERASED = 500
EXPORT_HEADER = [
    "id",
    "email",
    "first_name",
    "last_name",
    "title",
    "seniority",
    "department",
    "company",
    "company_domain",
    "status",
    "score",
    "source",
    "external_id",
    "created_at",
    "last_activity_at",
    "tags",
]
EXPORT_CHUNK = 2_000


@dataclass
class BulkResult:
    acted_on: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, count: int) -> None:
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def summary(self, done: str) -> str:
        """`done` with "{leads}" filled in, then what was skipped and why: "Suppressed 3
        leads. Skipped: 1 without an email." """
        leads = f"{self.acted_on:,} lead{'' if self.acted_on == 1 else 's'}"
        text = done.format(leads=leads) + "."
        if self.skipped:
            text += " Skipped: " + ", ".join(f"{n:,} {why}" for why, n in self.skipped.items())
            text += "."
        return text


@dataclass(frozen=True)
class Selection:
    """A bulk action's request: who acts, on which leads, with the form's other fields."""

    workspace: Workspace
    leads: QuerySet[Lead]
    params: QueryDict
    user: User

    @property
    def tag(self) -> str:
        return self.params.get("tag_name", "")


@dataclass(frozen=True)
class LeadAction:
    run: Callable[[Selection], BulkResult]
    # What was done, with "{leads}" for how many: see BulkResult.summary.
    done: str
    managers_only: bool = False


def leads_selected(*, workspace: Workspace, params: QueryDict) -> QuerySet[Lead]:
    """The leads a bulk action names: with `scope=matching`, every lead the list's filters
    (in `params`) match; otherwise the ids ticked (`lead`, repeated). InvalidQuery for an id
    that is not one."""
    if params.get("scope") == "matching":
        return selectors.lead_list(workspace=workspace, **selectors.lead_filters(params))
    return Lead.objects.for_workspace(workspace).filter(pk__in=ids_posted(params, "lead"))


def ids_posted(params: QueryDict, name: str) -> list[uuid.UUID]:
    """The ids ticked in a list's form (`name`, repeated); InvalidQuery for one that is not
    an id."""
    ids = []
    for value in params.getlist(name):
        try:
            ids.append(uuid.UUID(value.strip()))
        except ValueError:
            raise InvalidQuery(name, f"{value[:40]!r} is not a valid id.") from None
    return ids


def ids_within(
    rows: QuerySet, limit: int, *, noun: str = "leads", verb: str = "act on"
) -> list[uuid.UUID]:
    """The selected ids, or a clear refusal when there are more than one request may act on
    (a partial action would leave the seller guessing which rows it reached)."""
    ids = list(rows.order_by().values_list("pk", flat=True)[: limit + 1])
    if not ids:
        raise AppError(ErrorCode.INVALID, f"No {noun} selected: tick some, or choose all matching.")
    if len(ids) > limit:
        raise AppError(
            ErrorCode.INVALID,
            f"More than {limit:,} {noun} selected: {verb} at most {limit:,} at a time. "
            "Narrow the filters and repeat.",
        )
    return ids


def suppress_values(
    *,
    workspace: Workspace,
    values: list[str],
    selected: int,
    missing: str,
    user: User,
    reason: str,
    refused: str,
) -> BulkResult:
    """Suppress `values` (addresses or domains) of `selected` rows; those without one are
    skipped as `missing`, those the list refuses as `refused`."""
    added = suppressions_add(
        workspace=workspace, values=values, reason=reason, source=Suppression.Source.UI, user=user
    )
    result = BulkResult(acted_on=len(added.created))
    result.skip(missing, selected - len(values))
    result.skip("already suppressed", len(added.existing))
    result.skip(refused, len(added.errors))
    return result


def leads_enroll(*, workspace: Workspace, leads: QuerySet[Lead], campaign_id: str) -> BulkResult:
    """Enroll the selected leads into the workspace's campaign `campaign_id`, best-ranked
    first; those not eligible (no email, active elsewhere, suppressed, answered) are skipped
    with the reason."""
    from outreach.enrollment import campaign_enroll
    from outreach.models import Campaign

    try:
        wanted = uuid.UUID(campaign_id)
    except ValueError:
        raise AppError(ErrorCode.INVALID, "Choose the campaign to add the leads to.") from None
    campaign = Campaign.objects.for_workspace(workspace).filter(pk=wanted).first()
    if campaign is None:
        raise AppError(ErrorCode.NOT_FOUND, "That campaign does not exist.", status_code=404)
    ids = ids_within(leads, MAX_ACTED_ON, verb="add")
    enrolled = campaign_enroll(campaign=campaign, lead_ids=ids, limit=len(ids))
    result = BulkResult(acted_on=len(enrolled.enrolled))
    for reason, count in enrolled.skipped.items():
        result.skip(reason, count)
    return result


def _enroll_selected(selection: Selection) -> BulkResult:
    return leads_enroll(
        workspace=selection.workspace,
        leads=selection.leads,
        campaign_id=selection.params.get("campaign", ""),
    )


def leads_suppress(selection: Selection) -> BulkResult:
    """Suppress the selected leads' addresses: never mailed again by any campaign."""
    workspace = selection.workspace
    ids = ids_within(selection.leads, MAX_ACTED_ON, verb="suppress")
    emails = list(
        Lead.objects.for_workspace(workspace)
        .filter(pk__in=ids)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return suppress_values(
        workspace=workspace,
        values=emails,
        selected=len(ids),
        missing="without an email",
        user=selection.user,
        reason="Suppressed from the leads list.",
        refused="with an address that cannot be suppressed",
    )


def leads_pause(selection: Selection) -> BulkResult:
    """Hold the selected leads' running sequences: nothing more goes out to them until
    they are resumed. Leads with no running sequence are skipped and counted."""
    from outreach.enrollment_status import enrollments_move
    from outreach.models import Enrollment

    ids = ids_within(selection.leads, MAX_ACTED_ON, verb="pause")
    with transaction.atomic():
        paused = enrollments_move(
            Enrollment.objects.for_workspace(selection.workspace).filter(
                lead_id__in=ids, status=Enrollment.Status.ACTIVE
            ),
            status=Enrollment.Status.PAUSED,
            reason="Paused by a person",
            activity="enrollment.paused",
        )
    result = BulkResult(acted_on=len(paused))
    result.skip("not in a running sequence", len(ids) - len(paused))
    return result


def leads_resume(selection: Selection) -> BulkResult:
    """Resume the selected leads' paused sequences (paused by a person, or because a
    colleague answered). A lead runs one sequence at a time: one running elsewhere keeps
    this one paused, and of two paused the one paused last resumes."""
    ids = ids_within(selection.leads, MAX_ACTED_ON, verb="resume")
    try:
        resumed, running = _resume(selection.workspace, ids)
    except IntegrityError:  # the one-running-sequence-per-lead index
        raise AppError(
            ErrorCode.CONFLICT,
            "One of these leads started another sequence meanwhile; nothing was resumed. "
            "Try again.",
            status_code=409,
        ) from None
    result = BulkResult(acted_on=resumed)
    result.skip("already in a running sequence", running)
    result.skip("with nothing paused", len(ids) - resumed - running)
    return result


def _resume(workspace: Workspace, ids: list[uuid.UUID]) -> tuple[int, int]:
    from outreach.enrollment_status import enrollments_move
    from outreach.models import Enrollment

    enrollments = Enrollment.objects.for_workspace(workspace)
    with transaction.atomic():
        running = set(
            enrollments.filter(lead_id__in=ids, status=Enrollment.Status.ACTIVE)
            .select_for_update(no_key=True)
            .values_list("lead_id", flat=True)
        )
        latest: dict[uuid.UUID, uuid.UUID] = {}
        paused = enrollments.filter(lead_id__in=ids, status=Enrollment.Status.PAUSED)
        for pk, lead_id in paused.order_by("updated_at").values_list("pk", "lead_id"):
            if lead_id not in running:
                latest[lead_id] = pk
        resumed = enrollments_move(
            paused.filter(pk__in=latest.values()),
            status=Enrollment.Status.ACTIVE,
            reason="",
            activity="enrollment.resumed",
        )
    return len(resumed), len(running)


def leads_tag(selection: Selection) -> BulkResult:
    return _tagging(selection, tags.leads_tag, verb="tag", unchanged="already tagged")


def leads_untag(selection: Selection) -> BulkResult:
    return _tagging(selection, tags.leads_untag, verb="untag", unchanged="without that tag")


def _tagging(
    selection: Selection, change: Callable[..., int], *, verb: str, unchanged: str
) -> BulkResult:
    ids = ids_within(selection.leads, MAX_ACTED_ON, verb=verb)
    changed = change(workspace=selection.workspace, lead_ids=ids, name=selection.tag)
    result = BulkResult(acted_on=changed)
    result.skip(unchanged, len(ids) - changed)
    return result


def leads_erase(selection: Selection) -> BulkResult:
    """Erase the selected people as the lead page's Erase does, each in a transaction of
    its own (`lead_erase`)."""
    ids = ids_within(selection.leads, MAX_ERASED, verb="erase")
    result = BulkResult()
    for lead in Lead.objects.for_workspace(selection.workspace).filter(pk__in=ids):
        lead_erase(lead=lead)
        result.acted_on += 1
    return result


def leads_export_csv(leads: QuerySet[Lead]) -> Iterator[str]:
    """The selected leads as CSV lines (header first), read in chunks so an export of a
    hundred thousand leads never holds them all; every cell safe to open in a spreadsheet."""
    rows = (
        leads.select_related("company")
        .prefetch_related("tags")
        .order_by("-created_at", "-id")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    return csv_lines(chain([EXPORT_HEADER], (_export_row(lead) for lead in rows)))


def _export_row(lead: Lead) -> list[object]:
    company = lead.company
    return [
        lead.pk,
        lead.email,
        lead.first_name,
        lead.last_name,
        lead.title,
        lead.seniority,
        lead.department,
        company.name if company else "",
        company.domain if company else "",
        lead.status,
        "" if lead.score is None else round(lead.score, 4),
        lead.source,
        lead.external_id,
        lead.created_at.isoformat(),
        lead.last_activity_at.isoformat() if lead.last_activity_at else "",
        "; ".join(tag.name for tag in lead.tags.all()),
    ]


LEAD_ACTIONS = {
    "enroll": LeadAction(
        _enroll_selected, "Added {leads} to the campaign; their drafts are being written"
    ),
    "pause": LeadAction(leads_pause, "Paused the sequences of {leads}"),
    "resume": LeadAction(leads_resume, "Resumed the sequences of {leads}"),
    "tag": LeadAction(leads_tag, "Tagged {leads}"),
    "untag": LeadAction(leads_untag, "Took the tag off {leads}"),
    "suppress": LeadAction(leads_suppress, "Suppressed {leads}"),
    "erase": LeadAction(leads_erase, "Erased {leads}", managers_only=True),
}
