"""Writes on campaigns and their sequences."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.models import Lead
from leads.normalize import InvalidValue, timezone_validate
from outreach.enrollment_status import enrollments_move
from outreach.models import Campaign, Enrollment, Mailbox, SequenceStep
from outreach.variants import variants_clean
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

MAX_STEPS = 6
MAX_DELAY_BUSINESS_DAYS = 60
MAX_DOMAIN_DAILY_CAP = 1000
DEFAULT_SEQUENCE = [
    {"kind": SequenceStep.Kind.FIRST_TOUCH, "delay_business_days": 0},
    {"kind": SequenceStep.Kind.FOLLOW_UP, "delay_business_days": 3},
    {"kind": SequenceStep.Kind.BREAK_UP, "delay_business_days": 5},
]
CAMPAIGN_FIELDS = [
    "name",
    "status",
    "product",
    "value_propositions",
    "proof_points",
    "case_studies",
    "call_to_action",
    "tone",
    "style_guide",
    "example_emails",
    "language",
    "allowed_links",
    "competitors",
    "sender_name",
    "sender_title",
    "sender_company",
    "autonomy",
    "review_sample_share",
    "max_words_first_touch",
    "max_words_follow_up",
    # Sending (the mailboxes, a many-to-many, are set apart: see _mailboxes_set).
    "recipient_domain_daily_cap",
    "send_window_start",
    "send_window_end",
    "send_days",
    "timezone",
    "pause_colleagues_on_reply",
]


@transaction.atomic
def campaign_create(
    *,
    workspace: Workspace,
    steps: list[dict[str, Any]] | None = None,
    mailboxes: Iterable[Mailbox] | None = None,
    may_auto_send: bool = False,
    **fields: Any,
) -> Campaign:
    """Create a campaign. `may_auto_send`: the caller is an owner or admin (or an API key
    with the admin scope), the only ones who may let drafts go out unreviewed."""
    campaign = Campaign(workspace=workspace)
    _apply(campaign, fields)
    _autonomy_rules(campaign, previous=Campaign.Autonomy.APPROVE, may_auto_send=may_auto_send)
    campaign.save()
    if mailboxes is not None:
        _mailboxes_set(campaign, mailboxes)
    sequence_set(campaign=campaign, steps=steps or DEFAULT_SEQUENCE)
    if campaign.status == Campaign.Status.ACTIVE:
        _can_send(campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    steps: list[dict[str, Any]] | None = None,
    mailboxes: Iterable[Mailbox] | None = None,
    may_auto_send: bool = False,
    **fields: Any,
) -> Campaign:
    """Edit a campaign. An active campaign must keep an active mailbox to send from: making
    it active, or taking its last active mailbox away, without one is a 409. Turning on
    auto-send needs `may_auto_send` (see campaign_create)."""
    _editable(campaign)
    # From the database: a ModelForm has already set its values on the instance.
    previous_autonomy = (
        Campaign.objects.for_workspace(campaign.workspace)
        .filter(pk=campaign.pk)
        .values_list("autonomy", flat=True)
        .get()
    )
    # Archiving has consequences (enrollments stop, it is logged): one path for it,
    # whether it comes as the archive action or as a status in an edit.
    archive = fields.get("status") == Campaign.Status.ARCHIVED
    if archive:
        fields = {**fields, "status": campaign.status}
    _apply(campaign, fields)
    _autonomy_rules(campaign, previous=previous_autonomy, may_auto_send=may_auto_send)
    campaign.save()
    if mailboxes is not None:
        _mailboxes_set(campaign, mailboxes)
    if steps is not None:
        sequence_set(campaign=campaign, steps=steps)
    sending_changed = mailboxes is not None or "status" in fields
    if campaign.status == Campaign.Status.ACTIVE and sending_changed:
        _can_send(campaign)
    if archive:
        campaign = campaign_archive(campaign=campaign)
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    """Stop sending for the whole campaign; drafting and review go on. Pausing a paused
    campaign changes nothing."""
    return _status_move(campaign, Campaign.Status.PAUSED, "campaign.paused")


@transaction.atomic
def campaign_resume(*, campaign: Campaign) -> Campaign:
    """Start (or restart) sending: needs an active mailbox (409 otherwise)."""
    return _status_move(campaign, Campaign.Status.ACTIVE, "campaign.resumed")


def _locked(campaign: Campaign) -> Campaign:
    # NO KEY: enrolling a lead commits with KEY SHARE on its campaign, and must not wait.
    campaigns = Campaign.objects.for_workspace(campaign.workspace)
    return campaigns.select_for_update(no_key=True).get(pk=campaign.pk)


def _status_move(campaign: Campaign, to: str, activity: str) -> Campaign:
    campaign = _locked(campaign)
    previous = campaign.status
    if previous == to:
        return campaign
    campaign = campaign_update(campaign=campaign, status=to)
    activity_record(
        workspace=campaign.workspace,
        type=activity,
        object_type="campaign",
        object_id=campaign.pk,
        payload={"from": previous, "status": to},
    )
    return campaign


def _autonomy_rules(campaign: Campaign, *, previous: str, may_auto_send: bool) -> None:
    """Auto-send lets drafts go out with only a sample reviewed: only owners and admins
    turn it on, never with a sample under AUTO_SEND_MIN_REVIEW_SHARE, and it is logged."""
    if campaign.autonomy != Campaign.Autonomy.AUTO_SEND:
        if previous == Campaign.Autonomy.AUTO_SEND:
            _autonomy_logged(campaign, previous)
        return
    floor = settings.AUTO_SEND_MIN_REVIEW_SHARE
    if campaign.review_sample_share < floor:
        message = f"With auto-send, a person reviews at least {floor:.0%} of the drafts."
        raise AppError(ErrorCode.INVALID, message, details={"review_sample_share": [message]})
    if previous != Campaign.Autonomy.AUTO_SEND:
        if not may_auto_send:
            raise AppError(
                ErrorCode.PERMISSION_DENIED,
                "Only an owner or admin of the workspace can turn on auto-send.",
                status_code=403,
            )
        _autonomy_logged(campaign, previous)


def _autonomy_logged(campaign: Campaign, previous: str) -> None:
    activity_record(
        workspace=campaign.workspace,
        type="campaign.autonomy_changed",
        object_type="campaign",
        object_id=campaign.pk,
        payload={
            "from": previous,
            "to": campaign.autonomy,
            "review_sample_share": campaign.review_sample_share,
        },
    )


def _mailboxes_set(campaign: Campaign, mailboxes: Iterable[Mailbox]) -> None:
    chosen = list(mailboxes)
    # The API and the form scope their choices already; this is the last word on it.
    foreign = [m.pk for m in chosen if m.workspace_id != campaign.workspace_id]
    if foreign:
        raise AppError(ErrorCode.NOT_FOUND, "No mailbox with that id.", status_code=404)
    campaign.mailboxes.set(chosen)


def _can_send(campaign: Campaign) -> None:
    """Rolls the whole change back (the callers are atomic) when an active campaign would
    have no active mailbox to send from."""
    if not campaign.mailboxes.filter(status=Mailbox.Status.ACTIVE).exists():
        message = (
            "This campaign has no active mailbox to send from: add a mailbox (and test it) "
            "before making the campaign active."
        )
        raise AppError(
            ErrorCode.CONFLICT, message, details={"mailboxes": [message]}, status_code=409
        )


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    """Archive a campaign: campaigns are kept, never deleted, since their messages,
    outcomes and feedback are the record of what was sent and what it taught.

    Its active enrollments stop (a lead may be active in one campaign only, and an
    archived one will never write again), and no lead can be enrolled into it any more.
    Archiving an archived campaign changes nothing.
    """
    campaign = _locked(campaign)
    if campaign.status == Campaign.Status.ARCHIVED:
        return campaign
    previous = campaign.status
    campaign.status = Campaign.Status.ARCHIVED
    campaign.save(update_fields=["status", "updated_at"])
    stopped = enrollments_move(
        Enrollment.objects.for_workspace(campaign.workspace).filter(
            campaign=campaign, status=Enrollment.Status.ACTIVE
        ),
        status=Enrollment.Status.STOPPED,
        reason="Campaign archived",
        activity="enrollment.stopped",
        payload={"reason": "archived"},
    )
    # Their stage was "in a campaign"; they are free to be enrolled elsewhere again.
    Lead.objects.for_workspace(campaign.workspace).filter(
        pk__in=[lead_id for _, lead_id in stopped], status=Lead.Status.ACTIVE
    ).update(status=Lead.Status.NEW, updated_at=timezone.now())
    activity_record(
        workspace=campaign.workspace,
        type="campaign.archived",
        object_type="campaign",
        object_id=campaign.pk,
        payload={"from": previous, "stopped_enrollments": len(stopped)},
    )
    return campaign


def _editable(campaign: Campaign) -> None:
    if campaign.status == Campaign.Status.ARCHIVED:
        raise AppError(
            ErrorCode.CONFLICT,
            "This campaign is archived: it is kept as a record and cannot be changed.",
            status_code=409,
        )


def _apply(campaign: Campaign, fields: dict[str, Any]) -> None:
    for name in CAMPAIGN_FIELDS:
        if name in fields:
            setattr(campaign, name, fields[name])
    campaign.full_clean(exclude=["workspace"])
    _sending_rules(campaign)


def _sending_rules(campaign: Campaign) -> None:
    errors: dict[str, list[str]] = {}
    try:
        campaign.timezone = timezone_validate(campaign.timezone or "")
    except InvalidValue as error:
        errors["timezone"] = [str(error)]
    days = campaign.send_days
    if (
        not isinstance(days, list)
        or not days
        or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days)
    ):
        errors["send_days"] = ["Sending days are weekdays 0 (Monday) to 6 (Sunday), at least one."]
    else:
        campaign.send_days = sorted(set(days))
    if campaign.send_window_start >= campaign.send_window_end:
        errors["send_window_end"] = ["The sending window must end after it starts."]
    cap = campaign.recipient_domain_daily_cap
    if not 1 <= cap <= MAX_DOMAIN_DAILY_CAP:
        errors["recipient_domain_daily_cap"] = [
            f"The per-domain daily cap is 1 to {MAX_DOMAIN_DAILY_CAP}."
        ]
    if errors:
        raise AppError(ErrorCode.INVALID, next(iter(errors.values()))[0], details=errors)


def sequence_set(*, campaign: Campaign, steps: list[dict[str, Any]]) -> list[SequenceStep]:
    """Replace the campaign's steps. Steps that already have messages keep their rows.

    The rules are here, not in a form, so the API and the web page enforce the same ones.
    """
    _editable(campaign)
    if not steps:
        raise AppError(ErrorCode.INVALID, "A campaign needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise AppError(ErrorCode.INVALID, f"A sequence has at most {MAX_STEPS} steps.")
    kinds = SequenceStep.Kind.values
    unknown = [s.get("kind") for s in steps if s.get("kind", kinds[1]) not in kinds]
    if unknown:
        raise AppError(ErrorCode.INVALID, f"Unknown step kinds: {unknown}.")
    if steps[0].get("kind", SequenceStep.Kind.FIRST_TOUCH) != SequenceStep.Kind.FIRST_TOUCH:
        raise AppError(
            ErrorCode.INVALID,
            "The first step must be a first touch.",
            details={"steps": ["step 1 must be first_touch"]},
        )
    delays = [_delay(order, spec) for order, spec in enumerate(steps, start=1)]
    existing = {
        s.order: s
        for s in SequenceStep.objects.for_workspace(campaign.workspace).filter(campaign=campaign)
    }
    kept = []
    for order, spec in enumerate(steps, start=1):
        step = existing.pop(order, None) or SequenceStep(
            workspace=campaign.workspace, campaign=campaign, order=order
        )
        step.kind = spec.get("kind", SequenceStep.Kind.FOLLOW_UP)
        step.delay_business_days = delays[order - 1]
        step.instructions = spec.get("instructions", "")
        if "variants" in spec:  # the web form's rows carry none: a save keeps the test
            step.variants = variants_clean(spec["variants"])
        step.full_clean(exclude=["workspace", "campaign"], validate_constraints=False)
        step.save()
        kept.append(step)
    for leftover in existing.values():
        if leftover.messages.exists():
            raise AppError(
                ErrorCode.CONFLICT,
                f"Step {leftover.order} has messages and cannot "
                "be removed; pause the campaign or add steps instead.",
                status_code=409,
            )
        leftover.delete()
    return kept


def _delay(order: int, spec: dict[str, Any]) -> int:
    """The step's delay in business days, 0 to MAX_DELAY_BUSINESS_DAYS (a form sends text)."""
    raw = spec.get("delay_business_days", 0)
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= MAX_DELAY_BUSINESS_DAYS:
        message = f"Step {order}: the delay is 0 to {MAX_DELAY_BUSINESS_DAYS} business days."
        raise AppError(ErrorCode.INVALID, message, details={"steps": [message]})
    return raw
