"""The dashboard's numbers: the funnel over a period with the rate between each stage,
then the same per campaign and per mailbox, and the sending health (bounces and
unsubscribes against what was sent).

Each stage counts what happened in the period, by the time it happened (a lead added,
a draft written, a message approved, sent, answered, an outcome recorded), so a week's
funnel is that week's work. Rates are against the stage before; a rate over nothing is
None (shown as a dash), never a division error or a made-up zero.

A fixed number of queries whatever the workspace's size: one aggregate per table, and
one grouped query for each breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from leads.models import Lead
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome, Reply
from sdr.errors import InvalidQuery
from sdr.llm import llm_cost_summary
from sdr.models import Workspace

# Period choices for the dashboard, in days ("all": since the workspace began).
PERIODS: dict[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}
DEFAULT_PERIOD = "30"
# Replies that a person wrote: what "replied" means (auto-replies and bounces are not).
HUMAN_REPLY = ~Q(category__in=[Reply.Category.AUTO_REPLY, Reply.Category.BOUNCE])
POSITIVE_REPLY = Q(category__in=[Reply.Category.INTERESTED, Reply.Category.MEETING_REQUEST])
# Above these shares of sent mail, mailbox providers start to filter a sender: the
# dashboard says so. (Google's and Yahoo's 2024 bulk-sender rules use 0.3% spam complaints;
# for bounces 2% is the usual line deliverability tools draw.)
BOUNCE_WARNING = 0.02
UNSUBSCRIBE_WARNING = 0.01


@dataclass(frozen=True)
class Stage:
    label: str
    count: int
    rate: float | None  # of the stage before; None for the first or after a zero


@dataclass(frozen=True, kw_only=True)
class Sending:
    """What went out, and the people who answered and who answered well."""

    sent: int
    replied: int
    positive: int

    @property
    def reply_rate(self) -> float | None:
        return _rate(self.replied, self.sent)

    @property
    def positive_rate(self) -> float | None:
        return _rate(self.positive, self.sent)


@dataclass(frozen=True, kw_only=True)
class Breakdown(Sending):
    """One campaign's or mailbox's row."""

    name: str
    bounced: int
    unsubscribed: int


@dataclass(frozen=True, kw_only=True)
class Week(Sending):
    """One week (from Monday, UTC), each count by the week it happened in."""

    starts: date


@dataclass
class Funnel:
    period: str
    since: datetime | None
    stages: list[Stage]
    campaign_name: str = ""
    campaigns: list[Breakdown] = field(default_factory=list)
    mailboxes: list[Breakdown] = field(default_factory=list)
    weeks: list[Week] = field(default_factory=list)
    bounced: int = 0
    unsubscribed: int = 0
    llm_cost: Decimal = Decimal(0)

    def _count(self, label: str) -> int:
        return next(stage.count for stage in self.stages if stage.label == label)

    @property
    def sent(self) -> int:
        return self._count("Sent")

    @property
    def bounce_rate(self) -> float | None:
        return _rate(self.bounced, self.sent)

    @property
    def unsubscribe_rate(self) -> float | None:
        return _rate(self.unsubscribed, self.sent)

    @property
    def health_warnings(self) -> list[str]:
        warnings = []
        if (self.bounce_rate or 0) > BOUNCE_WARNING:
            warnings.append(
                f"{self.bounce_rate:.1%} of sent emails bounced (above {BOUNCE_WARNING:.0%}): "
                "mailbox providers start filtering such senders. Check the addresses of the "
                "last imports before sending more."
            )
        if (self.unsubscribe_rate or 0) > UNSUBSCRIBE_WARNING:
            warnings.append(
                f"{self.unsubscribe_rate:.1%} of recipients unsubscribed (above "
                f"{UNSUBSCRIBE_WARNING:.0%}): the targeting or the message is missing them."
            )
        return warnings

    @property
    def llm_cost_per_email(self) -> Decimal | None:
        return _per(self.llm_cost, self.sent)

    @property
    def llm_cost_per_positive(self) -> Decimal | None:
        return _per(self.llm_cost, self._count("Positive replies"))


def period_since(period: str, *, now: datetime | None = None) -> tuple[str, datetime | None]:
    """The period key (an unknown one is the default) and when it starts."""
    if period not in PERIODS:
        period = DEFAULT_PERIOD
    days = PERIODS[period]
    since = None if days is None else (now or timezone.now()) - timedelta(days=days)
    return period, since


def funnel(*, workspace: Workspace, period: str = DEFAULT_PERIOD, campaign_id: str = "") -> Funnel:
    """The workspace's funnel over `period` (a PERIODS key), for one campaign if given;
    InvalidQuery (a 400) for a campaign id the workspace does not have."""
    period, since = period_since(period)
    campaign = None
    if campaign_id:
        campaign = Campaign.objects.for_workspace(workspace).filter(pk=campaign_id).first()
        if campaign is None:
            raise InvalidQuery("campaign", "This workspace has no campaign with that id.")
    messages = _in(Message.objects.for_workspace(workspace), campaign, "enrollment__campaign")
    replies = _in(Reply.objects.for_workspace(workspace), campaign, "enrollment__campaign")
    outcomes = _in(
        Outcome.objects.for_workspace(workspace), campaign, "lead__enrollments__campaign"
    )
    if campaign is None:
        first = (
            "Leads added",
            _since(Lead.objects.for_workspace(workspace), "created_at", since).count(),
        )
    else:
        enrolled = Enrollment.objects.for_workspace(workspace).filter(campaign=campaign)
        first = ("Leads enrolled", _since(enrolled, "created_at", since).count())
    sequence = messages.filter(kind=Message.Kind.SEQUENCE)
    drafted = _since(sequence.exclude(status=Message.Status.DRAFTING), "created_at", since)
    approved = _since(sequence, "approved_at", since)
    sent = _since(sequence.filter(status=Message.Status.SENT), "sent_at", since)
    answered = _since(replies.filter(HUMAN_REPLY), "received_at", since)
    kinds = _since(outcomes, "occurred_at", since).aggregate(
        positive=Count("lead", filter=Q(kind=Outcome.Kind.POSITIVE_REPLY), distinct=True),
        meetings=Count("lead", filter=Q(kind=Outcome.Kind.MEETING_BOOKED), distinct=True),
        bounced=Count("lead", filter=Q(kind=Outcome.Kind.BOUNCED), distinct=True),
        unsubscribed=Count("lead", filter=Q(kind=Outcome.Kind.UNSUBSCRIBED), distinct=True),
    )
    counts = [
        first,
        ("Drafted", drafted.count()),
        ("Approved", approved.count()),
        ("Sent", sent.count()),
        ("Replied", answered.values("lead").distinct().count()),
        ("Positive replies", kinds["positive"]),
        ("Meetings booked", kinds["meetings"]),
    ]
    result = Funnel(
        period=period,
        since=since,
        stages=_stages(counts),
        campaign_name=campaign.name if campaign else "",
        bounced=kinds["bounced"],
        unsubscribed=kinds["unsubscribed"],
    )
    if campaign is None:
        result.campaigns = _per_campaign(workspace, since)
        result.llm_cost = Decimal(llm_cost_summary(workspace=workspace, since=since)["cost"] or 0)
    result.mailboxes = _per_mailbox(workspace, since, campaign)
    result.weeks = _per_week(sent, answered, _since(outcomes, "occurred_at", since))
    return result


def _per_week(
    sent: QuerySet[Message], answered: QuerySet[Reply], outcomes: QuerySet[Outcome]
) -> list[Week]:
    """Sent, replied and positive per week (Monday first, UTC), newest week first; the
    weeks with none of them are left out."""

    def by_week(rows: QuerySet, when: str, counted: Count) -> dict[date, int]:
        weekly = rows.annotate(week=TruncWeek(when)).values("week").annotate(n=counted)
        return {row["week"].date(): row["n"] for row in weekly.order_by()}

    sends = by_week(sent, "sent_at", Count("pk"))
    replies = by_week(answered, "received_at", Count("lead", distinct=True))
    positives = by_week(
        outcomes.filter(kind=Outcome.Kind.POSITIVE_REPLY),
        "occurred_at",
        Count("lead", distinct=True),
    )
    weeks = sorted({*sends, *replies, *positives}, reverse=True)
    return [
        Week(
            starts=week,
            sent=sends.get(week, 0),
            replied=replies.get(week, 0),
            positive=positives.get(week, 0),
        )
        for week in weeks
    ]


def _stages(counts: list[tuple[str, int]]) -> list[Stage]:
    stages, previous = [], None
    for label, count in counts:
        stages.append(Stage(label, count, None if previous is None else _rate(count, previous)))
        previous = count
    return stages


def _per_campaign(workspace: Workspace, since: datetime | None) -> list[Breakdown]:
    """Every campaign that sent or heard back in the period, most sent first."""
    sent = _grouped(
        Message.objects.for_workspace(workspace).filter(status=Message.Status.SENT),
        "enrollment__campaign",
        "sent_at",
        since,
    )
    answers = _reply_counts(Reply.objects.for_workspace(workspace), "enrollment__campaign", since)
    names = dict(
        Campaign.objects.for_workspace(workspace)
        .filter(pk__in={*sent, *answers})
        .values_list("pk", "name")
    )
    return _breakdowns(names, sent, answers)


def _per_mailbox(
    workspace: Workspace, since: datetime | None, campaign: Campaign | None
) -> list[Breakdown]:
    messages = Message.objects.for_workspace(workspace).filter(status=Message.Status.SENT)
    replies = Reply.objects.for_workspace(workspace)
    sent = _grouped(_in(messages, campaign, "enrollment__campaign"), "mailbox", "sent_at", since)
    answers = _reply_counts(
        _in(replies, campaign, "enrollment__campaign"), "message__mailbox", since
    )
    names = {
        pk: f"{name} <{address}>" if name else address
        for pk, name, address in Mailbox.objects.for_workspace(workspace)
        .filter(pk__in={*sent, *answers})
        .values_list("pk", "from_name", "from_email")
    }
    return _breakdowns(names, sent, answers)


def _reply_counts(replies: QuerySet[Reply], key: str, since: datetime | None) -> dict[Any, dict]:
    rows = (
        _since(replies, "received_at", since)
        .exclude(**{f"{key}__isnull": True})
        .values(key)
        .annotate(
            replied=Count("lead", filter=HUMAN_REPLY, distinct=True),
            positive=Count("lead", filter=POSITIVE_REPLY, distinct=True),
            bounced=Count("pk", filter=Q(category=Reply.Category.BOUNCE)),
            unsubscribed=Count(
                "lead", filter=Q(category=Reply.Category.UNSUBSCRIBE), distinct=True
            ),
        )
        .order_by()
    )
    return {row.pop(key): row for row in rows}


def _grouped(rows: QuerySet, key: str, when: str, since: datetime | None) -> dict[Any, int]:
    counted = _since(rows, when, since).values(key).annotate(n=Count("pk")).order_by()
    return {row[key]: row["n"] for row in counted if row[key] is not None}


def _breakdowns(
    names: dict[Any, str], sent: dict[Any, int], answers: dict[Any, dict]
) -> list[Breakdown]:
    empty = {"replied": 0, "positive": 0, "bounced": 0, "unsubscribed": 0}
    rows = [
        Breakdown(name=name, sent=sent.get(pk, 0), **answers.get(pk, empty))
        for pk, name in names.items()
    ]
    return sorted(rows, key=lambda row: (-row.sent, row.name))


def _in(rows: QuerySet, campaign: Campaign | None, path: str) -> QuerySet:
    return rows if campaign is None else rows.filter(**{path: campaign}).distinct()


def _since(rows: QuerySet, when: str, since: datetime | None) -> QuerySet:
    return (
        rows.filter(**{f"{when}__isnull": False})
        if since is None
        else rows.filter(**{f"{when}__gte": since})
    )


def _rate(part: int, whole: int | None) -> float | None:
    return part / whole if whole else None


def _per(cost: Decimal, count: int) -> Decimal | None:
    return (cost / count).quantize(Decimal("0.0001")) if count else None
