"""Dispatching: which approved messages go now, from which mailbox, and when exactly.

Beat runs `dispatch_due` every minute (`send.dispatch_due`); `manage.py dispatch_due`
runs one pass by hand. A pass takes approved messages past the undo window and due, in
batches claimed with `SELECT ... FOR UPDATE SKIP LOCKED` in a short transaction, so any
number of dispatchers can run at once without taking the same message twice. For each
it decides, in this order:

1. the address: a suppressed address never goes (the message fails, see below);
2. the recipient's local sending window (the lead's timezone, else the campaign's, else
   the workspace's; the campaign's days and hours; the workspace's holidays);
3. the mailbox: the enrollment's own if the thread started already (a thread never
   changes mailbox), else the campaign's active mailbox used least recently that has
   room today;
4. the caps, as shared limits in PostgreSQL: the mailbox's daily cap (with the warm-up
   ramp) counted over its local day, the minimum spacing between its sends, and a cap
   per recipient domain across the workspace over the last 24 hours.

The caps are counted while holding a lock on each mailbox row involved (and an advisory
lock per recipient domain), taken in a fixed order: two dispatchers counting at once
would otherwise both see room for the last message. A message that may go becomes
QUEUED with its mailbox, address and planned send time (`due_at`), and the send task is
hinted after commit with a countdown that spaces the mailbox's sends, plus jitter. A
message that may not go stays APPROVED with `hold_reason` in plain words for the UI.

Suppressed at dispatch: the message moves to FAILED ("suppressed: <source>") and the
enrollment stops. Holding it instead would keep it in every pass for ever, and a
suppression is lifted only rarely, by an admin, who can then redraft.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, Value
from django.db.models.functions import Coalesce, Lower, StrIndex, Substr
from django.utils import timezone

from billing.spend import sending_holds
from leads.contactability import suppression_reasons
from outreach.models import Campaign, Enrollment, Mailbox, Message
from sdr.activity import SYSTEM, Event, activities_record
from sdr.bulk import rows_update
from sdr.models import Workspace

logger = logging.getLogger(__name__)

BATCH = 200
# Messages a mailbox has taken for the day: queued ones count, and so do those whose send
# may have happened (UNKNOWN).
_TAKEN = [
    Message.Status.QUEUED,
    Message.Status.SENDING,
    Message.Status.SENT,
    Message.Status.UNKNOWN,
]
_DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

HOLD_NO_MAILBOX = "no mailbox: add one to the campaign"
HOLD_MAILBOX_CAP = "mailbox daily cap reached"
HOLD_NO_EMAIL = "the lead has no email address"
HOLD_NO_POSTAL_ADDRESS = "no mailbox with a postal address for the footer: add one to a mailbox"
_CAMPAIGN_HOLD = {
    Campaign.Status.PAUSED: "campaign paused",
    Campaign.Status.DRAFT: "campaign not active yet: activate it to send",
    Campaign.Status.ARCHIVED: "campaign archived",
}
_ENROLLMENT_HOLD = {
    Enrollment.Status.PAUSED: "sequence paused for this lead",
    Enrollment.Status.REPLIED: "the lead replied: sequence stopped",
    Enrollment.Status.FINISHED: "sequence finished",
    Enrollment.Status.STOPPED: "sequence stopped for this lead",
}


@dataclass(frozen=True)
class Queued:
    message_id: Any
    mailbox_id: Any
    countdown: float  # seconds from the pass's clock to the planned send


@dataclass
class DispatchReport:
    queued: list[Queued] = dataclasses.field(default_factory=list)
    held: Counter[str] = dataclasses.field(default_factory=Counter)
    suppressed: int = 0

    def summary(self) -> str:
        lines = [f"queued {len(self.queued)}"]
        if self.suppressed:
            lines.append(f"failed as suppressed {self.suppressed}")
        held = sum(self.held.values())
        lines.append(f"held {held}")
        lines += [f"  {n} {reason}" for reason, n in self.held.most_common()]
        return "\n".join(lines)


def approval_grace() -> timedelta:
    """The undo window: an approved message waits this long before it may go."""
    return timedelta(seconds=settings.APPROVAL_GRACE_SECONDS)


def dispatch_due(
    *, now: datetime | None = None, rng: random.Random | None = None, batch_size: int = BATCH
) -> DispatchReport:
    """One pass: queue every approved message that may go now, say why the others wait."""
    now = now or timezone.now()
    rng = rng or random.Random()  # noqa: S311 - jitter, not crypto
    report = DispatchReport()
    _hold_inactive(now, report)
    # One query per pass: workspaces whose billing pauses sending (a payment failed past
    # its grace period, or the month's spend cap reached).
    billing_holds = sending_holds(now=now)
    after: tuple[datetime, Any] | None = None
    while True:
        with transaction.atomic():
            batch = _claim_batch(now, after, batch_size)
            if not batch:
                break
            last = batch[-1]
            after = (last.approval_key, last.pk)  # type: ignore[attr-defined]
            _dispatch_batch(batch, now, rng, report, billing_holds)
    if report.queued:
        logger.info("dispatch: %s", report.summary().replace("\n", "; "))
    return report


def _ready(now: datetime) -> Q:
    """Approved, past the undo window, and due. A message approved without a time (an
    auto-sent draft: no person to undo) counts from its last change."""
    cutoff = now - approval_grace()
    return (
        Q(status=Message.Status.APPROVED)
        & (Q(approved_at__lte=cutoff) | Q(approved_at__isnull=True, updated_at__lte=cutoff))
        & (Q(due_at__isnull=True) | Q(due_at__lte=now))
    )


def _claim_batch(now: datetime, after: tuple[datetime, Any] | None, size: int) -> list[Message]:
    """The next batch in approval order, locked; rows another dispatcher holds are
    skipped (it is deciding them right now), not waited for. Keyset paging on (approval
    time, pk): held messages stay APPROVED and must not come round again in this pass."""
    rows = (
        Message.unscoped_objects.filter(
            _ready(now),
            # A person's answer to a reply goes although the reply stopped the sequence.
            Q(
                enrollment__campaign__status=Campaign.Status.ACTIVE,
                enrollment__status=Enrollment.Status.ACTIVE,
            )
            | Q(kind=Message.Kind.ANSWER),
        )
        .annotate(approval_key=Coalesce("approved_at", "updated_at"))
        .select_related(
            "workspace", "enrollment__lead", "enrollment__campaign", "enrollment__mailbox"
        )
    )
    if after is not None:
        rows = rows.filter(Q(approval_key__gt=after[0]) | Q(approval_key=after[0], pk__gt=after[1]))
    ordered = rows.order_by("approval_key", "pk").select_for_update(skip_locked=True, of=("self",))
    return list(ordered[:size])


# --- one batch ------------------------------------------------------------------------


@dataclass
class _Box:
    """A mailbox as the batch sees it: locked, with what it has taken today."""

    mailbox: Mailbox
    cap: int
    taken: int
    last: datetime | None  # the latest planned or actual send
    campaigns: set[Any]

    def has_room(self) -> bool:
        return self.taken < self.cap

    def next_slot(self, now: datetime) -> datetime:
        if self.last is None:
            return now
        return max(now, self.last + timedelta(seconds=self.mailbox.min_interval_seconds))


def _dispatch_batch(
    batch: list[Message],
    now: datetime,
    rng: random.Random,
    report: DispatchReport,
    billing_holds: dict[Any, str] | None = None,
) -> None:
    by_workspace: dict[Any, list[Message]] = {}
    for message in batch:
        by_workspace.setdefault(message.workspace_id, []).append(message)
    blocked: dict[str, str] = {}
    for messages in by_workspace.values():
        workspace = messages[0].workspace
        emails = [m.enrollment.lead.email for m in messages if m.enrollment.lead.email]
        blocked.update(suppression_reasons(workspace=workspace, emails=emails))

    boxes = _lock_mailboxes(batch, now)
    domains = _lock_domains(batch, now)
    horizon = timedelta(seconds=settings.DISPATCH_HORIZON_SECONDS)
    holds: dict[str, list[Any]] = {}
    events: dict[Any, list[Event]] = {}
    queued: list[Queued] = []
    to_queue: list[Message] = []
    threads: list[Enrollment] = []

    for message in batch:
        enrollment, lead = message.enrollment, message.enrollment.lead
        email = lead.email
        # Billing pauses new outreach; a person's answer to a reply still goes.
        billed_out = (billing_holds or {}).get(message.workspace_id)
        if billed_out and message.kind != Message.Kind.ANSWER:
            holds.setdefault(billed_out, []).append(message)
            continue
        if not email:
            holds.setdefault(HOLD_NO_EMAIL, []).append(message)
            continue
        if email in blocked:
            _fail_suppressed(message, f"suppressed: {blocked[email]}", events)
            report.suppressed += 1
            continue
        window = SendWindow.for_message(message)
        if not window.is_open(now):
            holds.setdefault(window.hold_reason(now), []).append(message)
            continue
        box, reason = _pick_mailbox(message, boxes, now)
        if box is None:
            holds.setdefault(reason, []).append(message)
            continue
        domain_key = (message.workspace_id, _domain(email))
        cap = message.enrollment.campaign.recipient_domain_daily_cap
        if domains.get(domain_key, 0) >= cap:
            holds.setdefault(f"recipient domain daily cap reached ({domain_key[1]})", []).append(
                message
            )
            continue
        slot = box.next_slot(now)
        if box.last is not None and slot > now:
            # Jitter on top of the spacing, never under it: spread, not bunched.
            slot += timedelta(seconds=rng.uniform(0, box.mailbox.min_interval_seconds * 0.25))
        if slot - now > horizon:
            holds.setdefault(
                f"waiting for a free slot on {box.mailbox.from_email} "
                f"(one send every {box.mailbox.min_interval_seconds} s)",
                [],
            ).append(message)
            continue
        if not window.is_open(slot):
            holds.setdefault(window.hold_reason(slot), []).append(message)
            continue
        # Written in bulk below: the batch's rows are locked by this transaction, so they
        # are still APPROVED (an "undo" waits for the commit, then finds them queued).
        message.status, message.mailbox, message.to_email = (
            Message.Status.QUEUED,
            box.mailbox,
            email,
        )
        message.queued_at, message.due_at, message.hold_reason = now, slot, ""
        message.updated_at = timezone.now()
        to_queue.append(message)
        if enrollment.mailbox_id is None:
            enrollment.mailbox = box.mailbox
            enrollment.updated_at = timezone.now()
            threads.append(enrollment)
        box.taken += 1
        box.last = slot
        domains[domain_key] = domains.get(domain_key, 0) + 1
        countdown = max(0.0, (slot - now).total_seconds())
        queued.append(Queued(message.pk, box.mailbox.pk, countdown))
        events.setdefault(message.workspace_id, []).append(
            Event(
                "message.queued",
                "message",
                message.pk,
                {
                    "lead": str(lead.pk),
                    "campaign": str(enrollment.campaign_id),
                    "status": Message.Status.QUEUED,
                    "mailbox": str(box.mailbox.pk),
                    "planned_at": slot.isoformat(),
                },
            )
        )

    if to_queue:
        rows_update(
            Message,
            to_queue,
            ["status", "mailbox", "to_email", "queued_at", "due_at", "hold_reason", "updated_at"],
        )
    if threads:
        rows_update(Enrollment, threads, ["mailbox", "updated_at"])
    for reason, messages in holds.items():
        _hold(messages, reason)
        report.held[reason] += len(messages)
    for workspace_id, workspace_events in events.items():
        activities_record(workspace=workspace_id, events=workspace_events, actor=SYSTEM)
    report.queued += queued
    if queued:
        transaction.on_commit(lambda: _hint_sends(queued))


def _hint_sends(queued: list[Queued]) -> None:
    # Imported here: the send task lives with the sending code, which imports this module.
    from outreach.tasks import send_message_task
    from sdr.queue import hint

    eager = bool(send_message_task.app.conf.task_always_eager)
    for item in queued:
        try:
            # Stop at the first refusal: the rest are QUEUED in the database all the same
            # and the sweeper hints them again (see sdr/queue.py).
            if not hint(send_message_task, str(item.message_id), countdown=item.countdown):
                break
        except Exception:
            if not eager:
                raise
            # Eager (the demo, `manage.py dispatch_due`): the send ran right here. One that
            # broke must not stop the others; the message's own state says what happened.
            logger.exception("Sending message %s failed", item.message_id)


def _hold(messages: list[Message], reason: str) -> None:
    # Written only when it changed: a message waiting for its window is seen every minute.
    ids = [m.pk for m in messages if m.hold_reason != reason]
    if ids:
        Message.unscoped_objects.filter(pk__in=ids, status=Message.Status.APPROVED).update(
            hold_reason=reason[:300]
        )
    for message in messages:
        message.hold_reason = reason


def _hold_inactive(now: datetime, report: DispatchReport) -> None:
    """Approved messages of campaigns or enrollments that are not active: say so. One
    UPDATE per reason, touching only rows whose reason changes."""
    ready = Message.unscoped_objects.filter(_ready(now)).exclude(kind=Message.Kind.ANSWER)
    for campaign_status, reason in _CAMPAIGN_HOLD.items():
        rows = ready.filter(enrollment__campaign__status=campaign_status)
        report.held[reason] += rows.count()
        rows.exclude(hold_reason=reason).update(hold_reason=reason)
    for status, reason in _ENROLLMENT_HOLD.items():
        rows = ready.filter(
            enrollment__campaign__status=Campaign.Status.ACTIVE, enrollment__status=status
        )
        report.held[reason] += rows.count()
        rows.exclude(hold_reason=reason).update(hold_reason=reason)
    for reason in [r for r, n in report.held.items() if not n]:
        del report.held[reason]


def _fail_suppressed(message: Message, reason: str, events: dict[Any, list[Event]]) -> None:
    moved = Message.unscoped_objects.filter(pk=message.pk, status=Message.Status.APPROVED).update(
        status=Message.Status.FAILED,
        failure_reason=reason,
        hold_reason=reason,
        updated_at=timezone.now(),
    )
    if not moved:
        return
    enrollment = message.enrollment
    stopped = Enrollment.unscoped_objects.filter(
        pk=enrollment.pk, status=Enrollment.Status.ACTIVE
    ).update(status=Enrollment.Status.STOPPED, stop_reason=reason, updated_at=timezone.now())
    payload = {"lead": str(enrollment.lead_id), "campaign": str(enrollment.campaign_id)}
    workspace_events = events.setdefault(message.workspace_id, [])
    workspace_events.append(
        Event(
            "message.send_failed",
            "message",
            message.pk,
            {**payload, "status": Message.Status.FAILED, "reason": reason},
        )
    )
    if stopped:
        workspace_events.append(
            Event(
                "enrollment.stopped",
                "enrollment",
                enrollment.pk,
                {**payload, "status": Enrollment.Status.STOPPED, "reason": reason},
            )
        )


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


# --- mailboxes and caps -----------------------------------------------------------------


def _lock_mailboxes(batch: list[Message], now: datetime) -> dict[Any, _Box]:
    """Lock every mailbox the batch may use, in pk order (so two dispatchers never wait
    on each other in a circle), then count what each has taken today."""
    campaign_ids = {m.enrollment.campaign_id for m in batch}
    serves: dict[Any, set[Any]] = {}
    links = Mailbox.campaigns.through.objects.filter(campaign_id__in=campaign_ids)
    for mailbox_id, campaign_id in links.values_list("mailbox_id", "campaign_id"):
        serves.setdefault(mailbox_id, set()).add(campaign_id)
    ids = set(serves)
    ids |= {m.enrollment.mailbox_id for m in batch if m.enrollment.mailbox_id}
    mailboxes = list(
        Mailbox.unscoped_objects.filter(pk__in=ids)
        .select_related("workspace")
        .order_by("pk")
        # The mailbox rows only: FOR UPDATE on the joined workspace too would block every
        # insert that points at the workspace (an activity) and deadlock with a send. And
        # NO KEY: a send's commit points its message at the mailbox (KEY SHARE on it).
        .select_for_update(of=("self",), no_key=True)
    )
    boxes: dict[Any, _Box] = {}
    for mailbox in mailboxes:
        day_start = _local_day_start(now, zone_first(mailbox.timezone, mailbox.workspace.timezone))
        counts = Message.unscoped_objects.filter(mailbox=mailbox, status__in=_TAKEN).aggregate(
            last_sent=Max("sent_at"),
            last_planned=Max(
                "due_at", filter=Q(status__in=[Message.Status.QUEUED, Message.Status.SENDING])
            ),
            last_queued=Max("queued_at"),
        )
        taken = Message.unscoped_objects.filter(
            mailbox=mailbox, status__in=_TAKEN, queued_at__gte=day_start
        ).count()
        known = [v for v in counts.values() if v is not None]
        if mailbox.last_sent_at is not None:
            known.append(mailbox.last_sent_at)
        boxes[mailbox.pk] = _Box(
            mailbox=mailbox,
            cap=mailbox_cap_today(mailbox=mailbox, now=now),
            taken=taken,
            last=max(known) if known else None,
            campaigns=serves.get(mailbox.pk, set()),
        )
    return boxes


def mailbox_cap_today(*, mailbox: Mailbox, now: datetime) -> int:
    """The daily cap, or with warm-up: `warmup_start` on the first day, `warmup_increment`
    more each day after, up to the cap. A ramp not started yet starts today."""
    if not mailbox.warmup_enabled:
        return mailbox.daily_cap
    today = now.astimezone(zone_first(mailbox.timezone, mailbox.workspace.timezone)).date()
    started = mailbox.warmup_started_on or today
    days = max(0, (today - started).days)
    return min(mailbox.daily_cap, mailbox.warmup_start + mailbox.warmup_increment * days)


def _has_postal_address(mailbox: Mailbox) -> bool:
    # Every email carries the sender's postal address (CAN-SPAM); without one the send
    # would fail, so the message waits here with the reason instead.
    return bool(mailbox.postal_address.strip())


def _pick_mailbox(
    message: Message, boxes: dict[Any, _Box], now: datetime
) -> tuple[_Box | None, str]:
    enrollment = message.enrollment
    if enrollment.mailbox_id is not None:
        box = boxes.get(enrollment.mailbox_id)
        if box is None:
            return None, HOLD_NO_MAILBOX
        if box.mailbox.status != Mailbox.Status.ACTIVE:
            return None, (
                f"the thread's mailbox {box.mailbox.from_email} is "
                f"{box.mailbox.get_status_display().lower()}"
            )
        if not _has_postal_address(box.mailbox):
            return None, f"the thread's mailbox {box.mailbox.from_email} has no postal address"
        if not box.has_room():
            return None, HOLD_MAILBOX_CAP
        return box, ""
    campaign_boxes = [b for b in boxes.values() if enrollment.campaign_id in b.campaigns]
    if not campaign_boxes:
        return None, HOLD_NO_MAILBOX
    active = [b for b in campaign_boxes if b.mailbox.status == Mailbox.Status.ACTIVE]
    if not active:
        return None, "no active mailbox: the campaign's mailboxes are paused or failing"
    active = [b for b in active if _has_postal_address(b.mailbox)]
    if not active:
        return None, HOLD_NO_POSTAL_ADDRESS
    with_room = [b for b in active if b.has_room()]
    if not with_room:
        return None, HOLD_MAILBOX_CAP
    # Least recently used: the one that can send soonest, then the one idle longest, then
    # the one that sent least today.
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    return min(
        with_room, key=lambda b: (b.next_slot(now), b.last or epoch, b.taken, str(b.mailbox.pk))
    ), ""


def _lock_domains(batch: list[Message], now: datetime) -> dict[tuple[Any, str], int]:
    """(workspace, recipient domain) -> messages taken in the last 24 hours, counted under
    an advisory lock per pair (taken after the mailbox locks, in a fixed order)."""
    keys = sorted(
        {
            (m.workspace_id, _domain(m.enrollment.lead.email))
            for m in batch
            if m.enrollment.lead.email
        },
        key=lambda k: (str(k[0]), k[1]),
    )
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        # One statement, the locks taken in the order of the sorted keys.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) "
                "FROM (SELECT unnest(%s::text[]) AS k ORDER BY 1) AS ordered",
                [[f"dispatch-domain:{w}:{d}" for w, d in keys]],
            )
    since = now - timedelta(hours=24)
    counts: dict[tuple[Any, str], int] = dict.fromkeys(keys, 0)
    domain = Lower(Substr("to_email", StrIndex("to_email", Value("@")) + 1))
    rows = (
        Message.unscoped_objects.filter(
            workspace_id__in={w for w, _ in keys}, status__in=_TAKEN, queued_at__gte=since
        )
        .annotate(domain=domain)
        .filter(domain__in={d for _, d in keys})
        .values_list("workspace_id", "domain")
        .annotate(n=Count("pk"))
    )
    for workspace_id, name, n in rows:
        if (workspace_id, name) in counts:
            counts[(workspace_id, name)] = n
    return counts


# --- the recipient's local window ---------------------------------------------------------


def zone_first(*names: str) -> ZoneInfo:
    """The first valid IANA zone among `names`, else UTC."""
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _local_day_start(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0, 0), tzinfo=zone)


@dataclass(frozen=True)
class SendWindow:
    """When a recipient may be written to, in their own time zone."""

    zone: ZoneInfo
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    holidays: frozenset[date]

    @classmethod
    def for_message(cls, message: Message) -> SendWindow:
        enrollment = message.enrollment
        return cls.for_recipient(
            lead_timezone=enrollment.lead.timezone,
            campaign=enrollment.campaign,
            workspace=message.workspace,
        )

    @classmethod
    def for_recipient(
        cls, *, lead_timezone: str, campaign: Campaign, workspace: Workspace
    ) -> SendWindow:
        days = campaign.send_days if campaign.send_days else [0, 1, 2, 3, 4]
        return cls(
            zone=zone_first(lead_timezone, campaign.timezone, workspace.timezone),
            days=frozenset(int(d) for d in days),
            start=campaign.send_window_start,
            end=campaign.send_window_end,
            holidays=frozenset(holiday_dates(workspace.holidays)),
        )

    def _sending_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self._sending_day(local.date()) and self.start <= local.time() < self.end

    def next_open(self, moment: datetime) -> datetime | None:
        """The next time the window opens after `moment` (None if it never does)."""
        local = moment.astimezone(self.zone)
        for offset in range(0, 370):
            day = local.date() + timedelta(days=offset)
            if not self._sending_day(day):
                continue
            # Wall time in the zone; zoneinfo resolves the day's UTC offset (DST) itself.
            opens = datetime.combine(day, self.start, tzinfo=self.zone)
            if opens > moment:
                return opens
        return None

    def hold_reason(self, moment: datetime) -> str:
        opens = self.next_open(moment)
        if opens is None:
            return "outside the sending window: the campaign has no sending days"
        local = moment.astimezone(self.zone)
        at = opens.strftime("%H:%M")
        if opens.date() != local.date():
            at = f"{_DAY_NAMES[opens.weekday()]} {opens.day} {opens.strftime('%b')} {at}"
        return f"outside the sending window until {at} {self.zone.key}"


def holiday_dates(values: list[Any] | None) -> Iterable[date]:
    for value in values or []:
        try:
            yield date.fromisoformat(str(value))
        except ValueError:
            logger.warning("Ignoring a holiday that is not a date: %r", value)
