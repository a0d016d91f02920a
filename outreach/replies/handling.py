"""Acting on a reply once it is understood: classify, then do what the category asks.

`reply_handle` is called by ingest for every new reply (ingest has recorded
`reply.received`); a replay (a second worker, a
re-run of ingest) finds `handled_at` set and does nothing. The model call runs before the
transaction (STYLE.md, habit 6); the actions run inside one, on the locked reply row, so
two workers never act twice. Every action is listed in `reply.actions` and written to the
activity log in the same transaction.

Actions by category:
- any human reply (not an auto-reply or a bounce): the lead's active sequences stop
  (REPLIED), and colleagues at the same company pause in campaigns that ask for it;
- interested, meeting request: a positive_reply outcome with the reply as evidence;
  not interested: a not_interested outcome;
- unsubscribe: an unsubscribed outcome (which suppresses the address);
- a hard bounce: a bounced outcome for each lead whose address failed for good, and a
  suppression; a soft bounce is only recorded;
- an out-of-office with a return date: the sequence's next unsent message waits until
  the business day after the return date;
- wrong person with a referral address: a lead at the same company;
- interested, meeting request, question: a suggested answer (outreach/replies/answer.py).

`reply_category_set` is a person's correction: kept as a label, and the actions of the new
category that have not been done yet are done (actions already taken stay: an outcome is
recorded once and may have been billed).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leads.contactability import is_suppressed, suppression_add
from leads.models import Lead, Suppression
from leads.normalize import InvalidValue, email_normalize
from leads.services import lead_create
from outreach.dispatch import holiday_dates, zone_first
from outreach.enrollment_status import enrollments_move
from outreach.models import Enrollment, Message, Outcome, Reply, ReplyLabel
from outreach.outcomes import outcome_record
from outreach.replies.answer import answer_suggest
from outreach.replies.classify import Classified, classified
from outreach.replies.parsing import ParsedEmail
from outreach.sequences import add_business_days
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode

HUMAN_EXCLUDED = {Reply.Category.AUTO_REPLY, Reply.Category.BOUNCE}
# Keyed by str: a category read back from the database is a plain str.
_OUTCOME: dict[str, str] = {
    Reply.Category.INTERESTED: Outcome.Kind.POSITIVE_REPLY,
    Reply.Category.MEETING_REQUEST: Outcome.Kind.POSITIVE_REPLY,
    Reply.Category.NOT_INTERESTED: Outcome.Kind.NOT_INTERESTED,
    Reply.Category.UNSUBSCRIBE: Outcome.Kind.UNSUBSCRIBED,
}
# Messages of a sequence that have not gone yet; QUEUED ones are taken back (see below).
_UNSENT = [
    Message.Status.DRAFTING,
    Message.Status.HELD,
    Message.Status.PENDING_REVIEW,
    Message.Status.APPROVED,
]
EVIDENCE_CHARS = 500


def reply_handle(reply: Reply, parsed: ParsedEmail) -> None:
    """Classify the reply and act on it, once."""
    if _handled(reply):
        return
    result = classified(reply, parsed)  # may call the model: outside the transaction
    with transaction.atomic():
        reply = _locked(reply)
        if reply.handled_at is not None:
            return  # another worker got here first
        _parse_facts_set(reply, parsed)
        _classification_set(reply, result)
        _record(
            reply,
            "classified",
            f"{reply.get_category_display()} ({reply.confidence:.0%}, "
            f"{reply.get_classifier_display().lower()})",
            category=reply.category,
        )
        reply_act(reply)
        reply.handled_at = timezone.now()
        reply.save()
    answer_suggest(reply=reply)


def reply_category_set(
    *, reply: Reply, category: str, note: str = "", user: User | None = None
) -> Reply:
    """A person's category for the reply: a label kept, then the new category's actions."""
    if category not in Reply.Category.values:
        message = f"category must be one of {', '.join(Reply.Category.values)}."
        raise AppError(ErrorCode.INVALID, message, details={"category": [message]})
    with transaction.atomic():
        reply = _locked(reply)
        ReplyLabel.objects.for_workspace(reply.workspace).create(
            workspace=reply.workspace,
            reply=reply,
            category_before=reply.category,
            category_after=category,
            classifier_before=reply.classifier,
            confidence_before=reply.confidence,
            note=note.strip()[:2000],
            user=user if getattr(user, "pk", None) else None,
        )
        before = reply.get_category_display()
        reply.category, reply.classifier, reply.confidence = (
            category,
            Reply.Classifier.PERSON,
            1.0,
        )
        reply.classification_reason = (f"Set by a person. {note.strip()}").strip()[:500]
        _record(
            reply,
            "relabelled",
            f"{before} → {reply.get_category_display()}",
            category=category,
        )
        reply_act(reply)
        reply.handled_at = reply.handled_at or timezone.now()
        reply.save()
    return answer_suggest(reply=reply)


def reply_act(reply: Reply) -> None:
    """Do what the reply's category asks and has not been done; inside the transaction
    that holds the reply's lock. The caller saves the reply."""
    category = reply.category
    if category == Reply.Category.BOUNCE:
        _bounce(reply)
    elif category == Reply.Category.AUTO_REPLY:
        _resume_after(reply)
    elif category == Reply.Category.WRONG_PERSON:
        _referral_lead(reply)
    if category == Reply.Category.UNSUBSCRIBE:
        _sender_suppress(reply)
    if category in _OUTCOME:
        _outcome(reply, _OUTCOME[category])
    if category not in HUMAN_EXCLUDED:
        _sequences_stop(reply)
        _colleagues_pause(reply)


# --- state ---------------------------------------------------------------------------


def _handled(reply: Reply) -> bool:
    return (
        Reply.objects.for_workspace(reply.workspace)
        .filter(pk=reply.pk, handled_at__isnull=False)
        .exists()
    )


def _locked(reply: Reply) -> Reply:
    # NO KEY: a label or an outcome about the reply may be committing (KEY SHARE on it).
    return (
        Reply.objects.for_workspace(reply.workspace)
        .select_for_update(of=("self",), no_key=True)
        .select_related("workspace", "lead__company", "enrollment__campaign", "message")
        .get(pk=reply.pk)
    )


def _parse_facts_set(reply: Reply, parsed: ParsedEmail) -> None:
    """What the parse found, so the actions below read one place (ingest may have set it
    already; the values are the same)."""
    reply.is_auto_reply = parsed.is_auto_reply
    reply.out_of_office_until = parsed.out_of_office_until
    reply.is_bounce = parsed.is_bounce
    reply.bounced = reply.bounced or [
        {"address": b.address, "permanent": b.permanent, "status": b.status} for b in parsed.bounced
    ]
    reply.visible_text = reply.visible_text or parsed.visible_text
    reply.text = reply.text or parsed.text


def _classification_set(reply: Reply, result: Classified) -> None:
    found = result.classification
    reply.category = found.category
    reply.confidence = max(0.0, min(1.0, found.confidence))
    reply.classifier = result.classifier
    reply.classification_reason = found.reason[:500]
    reply.referral = dict(found.referral)


def _done(reply: Reply, action: str, key: str = "") -> bool:
    return any(a.get("action") == action and a.get("key", "") == key for a in reply.actions)


def _record(reply: Reply, action: str, detail: str, *, key: str = "", **extra: Any) -> None:
    """One action in the reply's list and in the activity log (`reply.<action>`)."""
    entry = {"action": action, "detail": detail, "at": timezone.now().isoformat(), **extra}
    if key:
        entry["key"] = key
    reply.actions = [*reply.actions, entry]
    activity_record(
        workspace=reply.workspace,
        type=f"reply.{action}",
        object_type="reply",
        object_id=reply.pk,
        payload={"lead": str(reply.lead_id or ""), "category": reply.category, **extra},
    )


def _evidence(reply: Reply) -> str:
    text = " ".join((reply.visible_text or reply.text or reply.subject).split())
    quoted = text[:EVIDENCE_CHARS] + ("…" if len(text) > EVIDENCE_CHARS else "")
    return f"Reply from {reply.from_email or 'the lead'}: {quoted}"


# --- actions -------------------------------------------------------------------------


def _outcome(reply: Reply, kind: str) -> None:
    if reply.lead is None or _done(reply, "outcome", kind):
        return
    outcome, created = outcome_record(
        lead=reply.lead,
        kind=kind,
        evidence=_evidence(reply),
        source=Outcome.Source.REPLY,
        evidence_type="reply",
        evidence_id=reply.pk,
        occurred_at=reply.received_at,
    )
    detail = outcome.get_kind_display() + ("" if created else " (recorded before)")
    _record(reply, "outcome", detail, key=kind, outcome=str(outcome.pk), kind=kind)


def _sender_suppress(reply: Reply) -> None:
    """An unsubscribe from another address than the lead's (a colleague, an alias): that
    address is suppressed too. The lead's own is suppressed by the outcome."""
    sender = reply.from_email
    lead_email = reply.lead.email if reply.lead else ""
    if not sender or sender == lead_email or _done(reply, "suppressed", sender):
        return
    try:
        suppression_add(
            workspace=reply.workspace,
            value=sender,
            reason=_evidence(reply)[:300],
            source=Suppression.Source.REPLY,
        )
    except AppError:
        return  # not an address we could ever write to
    _record(reply, "suppressed", f"{sender} asked not to be emailed", key=sender)


def _sequences_stop(reply: Reply) -> None:
    if reply.lead_id is None:
        return
    reason = f"replied: {reply.get_category_display().lower()}"[:300]
    active = Enrollment.objects.for_workspace(reply.workspace).filter(
        Q(lead_id=reply.lead_id) | Q(pk=reply.enrollment_id), status=Enrollment.Status.ACTIVE
    )
    stopped = enrollments_move(
        active,
        status=Enrollment.Status.REPLIED,
        reason=reason,
        activity="enrollment.stopped",
        payload={"reply": str(reply.pk)},
    )
    for enrollment_id, _ in stopped:
        _record(reply, "sequence_stopped", reason, key=str(enrollment_id))


def _colleagues_pause(reply: Reply) -> None:
    """Outcomes pause colleagues for positive and negative answers; any other human reply
    (a question, a referral, "not now") pauses them here, as the campaign asks."""
    lead = reply.lead
    if lead is None or lead.company_id is None:
        return
    colleagues = (
        Enrollment.objects.for_workspace(reply.workspace)
        .filter(
            lead__company_id=lead.company_id,
            status=Enrollment.Status.ACTIVE,
            campaign__pause_colleagues_on_reply=True,
        )
        .exclude(lead_id=lead.pk)
    )
    # No name in the reason: it outlives an erasure of the colleague.
    reason = "paused: a colleague at the same company replied"
    paused = enrollments_move(
        colleagues,
        status=Enrollment.Status.PAUSED,
        reason=reason,
        activity="enrollment.paused",
        payload={"because_of": str(lead.pk), "reply": str(reply.pk)},
    )
    for enrollment_id, _ in paused:
        _record(reply, "colleague_paused", reason, key=str(enrollment_id))


def _bounce(reply: Reply) -> None:
    hard = [b["address"] for b in reply.bounced if b.get("permanent") and b.get("address")]
    if not hard:
        if not _done(reply, "soft_bounce"):
            failed = ", ".join(b.get("address", "") for b in reply.bounced) or "an address"
            _record(reply, "soft_bounce", f"Delivery to {failed} failed for now; nothing done")
        return
    for address in hard:
        _hard_bounce(reply, address)


def _hard_bounce(reply: Reply, address: str) -> None:
    try:
        email = email_normalize(address)
    except InvalidValue:
        return
    if _done(reply, "bounced", email):
        return
    evidence = f"Delivery to {email} failed for good (bounce received {reply.received_at:%Y-%m-%d})"
    suppression_add(
        workspace=reply.workspace, value=email, reason=evidence, source=Suppression.Source.BOUNCE
    )
    lead = reply.lead if reply.lead and reply.lead.email == email else None
    lead = lead or Lead.objects.for_workspace(reply.workspace).filter(email=email).first()
    extra: dict[str, Any] = {"address": email}
    if lead is not None:
        outcome, _ = outcome_record(
            lead=lead,
            kind=Outcome.Kind.BOUNCED,
            evidence=evidence,
            source=Outcome.Source.REPLY,
            evidence_type="reply",
            evidence_id=reply.pk,
            occurred_at=reply.received_at,
        )
        extra |= {"lead": str(lead.pk), "outcome": str(outcome.pk)}
    _record(reply, "bounced", f"{email} bounced for good: suppressed", key=email, **extra)


def _resume_after(reply: Reply) -> None:
    """Out of office until a date: the next unsent message waits until the business day
    after it, at the start of the campaign's sending window in the recipient's zone."""
    back = reply.out_of_office_until
    if back is None or back < timezone.localdate() or _done(reply, "resume_after"):
        return
    enrollments = Enrollment.objects.for_workspace(reply.workspace).filter(
        Q(lead_id=reply.lead_id) | Q(pk=reply.enrollment_id),
        status=Enrollment.Status.ACTIVE,
    )
    moved = 0
    resume: datetime | None = None
    for enrollment in enrollments.select_related("campaign", "lead"):
        resume = _resume_time(reply, enrollment, back)
        moved += _postpone(enrollment, resume)
    if resume is None:
        return
    detail = f"Out of office until {back:%d %b %Y}: next email waits until {resume:%d %b %Y}"
    _record(reply, "resume_after", detail, until=back.isoformat(), messages=moved)


def _resume_time(reply: Reply, enrollment: Enrollment, back: date) -> datetime:
    zone = zone_first(
        enrollment.lead.timezone, enrollment.campaign.timezone, reply.workspace.timezone
    )
    holidays = frozenset(holiday_dates(reply.workspace.holidays))
    day = add_business_days(back, 1, holidays=holidays)
    return datetime.combine(day, enrollment.campaign.send_window_start, tzinfo=zone)


def _postpone(enrollment: Enrollment, resume: datetime) -> int:
    """Push the unsent messages due before `resume`. A QUEUED one goes back to APPROVED
    with the conditional update a send claim also uses: one the send task has claimed
    already (SENDING) is not touched; it went."""
    messages = Message.objects.for_workspace(enrollment.workspace).filter(
        Q(due_at__isnull=True) | Q(due_at__lt=resume), enrollment=enrollment
    )
    moved = messages.filter(status__in=_UNSENT).update(due_at=resume, updated_at=timezone.now())
    moved += messages.filter(status=Message.Status.QUEUED).update(
        status=Message.Status.APPROVED,
        due_at=resume,
        hold_reason="the lead is out of office",
        updated_at=timezone.now(),
    )
    return moved


def _referral_lead(reply: Reply) -> None:
    """The person the reply names instead, as a lead at the same company, through the one
    lead write path (the address validated and normalised), unless suppressed."""
    referral = reply.referral or {}
    address = str(referral.get("email", "")).strip()
    if not address or _done(reply, "referral"):
        return
    try:
        email = email_normalize(address)
    except InvalidValue:
        _record(reply, "referral", f"Referral address not usable: {address[:100]}")
        return
    if is_suppressed(workspace=reply.workspace, email=email):
        _record(reply, "referral", f"{email} is suppressed: no lead created", address=email)
        return
    try:
        # lead_create's own savepoint undoes its write when it refuses (a 409 names the
        # existing lead, which is then linked instead).
        lead = lead_create(
            workspace=reply.workspace, row=_referral_row(reply, email), source=Lead.Source.REFERRAL
        )
        created = True
    except AppError as error:
        if error.code != ErrorCode.CONFLICT or not error.details:
            _record(reply, "referral", f"No lead created: {error.message}", address=email)
            return
        lead = Lead.objects.for_workspace(reply.workspace).get(pk=error.details["lead"])
        created = False
    words = "New lead" if created else "Existing lead"
    _record(reply, "referral", f"{words}: {email}", lead=str(lead.pk), created=created)


def _referral_row(reply: Reply, email: str) -> dict[str, Any]:
    referral = reply.referral or {}
    company = reply.lead.company if reply.lead else None
    row: dict[str, Any] = {
        "email": email,
        "full_name": str(referral.get("name", ""))[:200],
        "title": str(referral.get("title", ""))[:200],
        # Which reply and which lead it came from, for people and the CRM.
        "custom_fields": {
            "referred_in_reply": str(reply.pk),
            "referred_by_lead": str(reply.lead_id or ""),
        },
    }
    if company is not None:
        row |= {"company_domain": company.domain, "company_name": company.name}
    return row
