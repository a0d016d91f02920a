"""Web UI for campaigns, mailboxes and the review queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from outreach import campaigns, enrollment, preview, review, selectors, unknown, variants
from outreach.briefs_from_db import lead_brief
from outreach.forms import CampaignForm, MailboxForm
from outreach.mailboxes import mailbox_create, mailbox_test, mailbox_update
from outreach.messages import message_redraft
from outreach.models import Campaign, Mailbox, Message, SequenceStep
from sdr.edge import query_uuid
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.tenancy import member_required


@member_required
def campaign_list(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "outreach/campaign_list.html",
        {"campaigns": selectors.campaign_list(workspace=request.workspace)},
    )


@member_required
def campaign_new(request: MemberRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns.campaign_create(
                workspace=request.workspace,
                may_auto_send=request.membership.can_manage,
                **form.cleaned_data,
            )
        except AppError as error:
            _form_errors(form, error)
        else:
            flash.success(request, "Campaign created with a three-step sequence.")
            return redirect("campaign-detail", pk=campaign.pk)
    return render(request, "outreach/campaign_form.html", {"form": form})


@member_required(pk=Campaign)
def campaign_edit(request: MemberRequest, pk: Campaign) -> HttpResponse:
    form = CampaignForm(request.POST or None, instance=pk, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.campaign_update(
                campaign=pk, may_auto_send=request.membership.can_manage, **form.cleaned_data
            )
        except AppError as error:
            if error.status_code == 409 and error.details is None:
                flash.error(request, error.message)  # archived: nothing to fix on the form
                return redirect("campaign-detail", pk=pk.pk)
            _form_errors(form, error)
        else:
            flash.success(request, "Campaign saved.")
            return redirect("campaign-detail", pk=pk.pk)
    return render(request, "outreach/campaign_form.html", {"form": form, "campaign": pk})


def _form_errors(form: forms.BaseForm, error: AppError) -> None:
    """A service's error, put on the fields it names (or on the form as a whole)."""
    details: Any = error.details
    placed = False
    if isinstance(details, dict):
        for name, messages in details.items():
            if name in form.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    form.add_error(name, str(message))
                placed = True
    if not placed:
        form.add_error(None, error.message)


@member_required
def mailbox_list(request: MemberRequest) -> HttpResponse:
    return render(
        request,
        "outreach/mailbox_list.html",
        {"mailboxes": Mailbox.objects.for_workspace(request.workspace).order_by("from_email")},
    )


@member_required
def mailbox_new(request: MemberRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox = mailbox_create(workspace=request.workspace, **form.service_fields())
        except AppError as error:
            _form_errors(form, error)
        else:
            flash.success(request, f"Mailbox {mailbox.from_email} added; test its connection.")
            return redirect("mailbox-edit", pk=mailbox.pk)
    return render(request, "outreach/mailbox_form.html", {"form": form})


@member_required(pk=Mailbox)
def mailbox_edit(request: MemberRequest, pk: Mailbox) -> HttpResponse:
    form = MailboxForm(request.POST or None, instance=pk)
    if request.method == "POST" and form.is_valid():
        try:
            mailbox_update(mailbox=pk, **form.service_fields())
        except AppError as error:
            _form_errors(form, error)
        else:
            flash.success(request, "Mailbox saved.")
            return redirect("mailbox-edit", pk=pk.pk)
    return render(request, "outreach/mailbox_form.html", {"form": form, "mailbox": pk})


@require_POST
@member_required(pk=Mailbox)
def mailbox_check(request: MemberRequest, pk: Mailbox) -> HttpResponse:
    """Test connection: the result in plain words, on the page it was asked from."""
    result = mailbox_test(mailbox=pk)
    if result.ok:
        flash.success(request, f"Connection works. {result.summary}")
    else:
        flash.error(request, f"Connection failed. {result.summary}")
    return redirect("mailbox-edit", pk=pk.pk)


@member_required(pk=Campaign)
def campaign_detail(request: MemberRequest, pk: Campaign) -> HttpResponse:
    steps = list(pk.steps.order_by("order"))
    recent = list(
        selectors.message_list(workspace=request.workspace, campaign_id=str(pk.pk)).order_by(
            "-created_at"
        )[:25]
    )
    waiting = {m.pk: selectors.message_waiting_reason(message=m) for m in recent}
    return render(
        request,
        "outreach/campaign_detail.html",
        {
            "campaign": pk,
            "step_rows": [*steps, *[None] * (campaigns.MAX_STEPS - len(steps))],
            "step_kinds": SequenceStep.Kind.choices,
            "counts": selectors.campaign_message_counts(campaign=pk),
            "eligible": enrollment.eligible_leads(campaign=pk).count(),
            "recent": [(m, waiting[m.pk]) for m in recent],
            "ab_tables": _ab_tables(pk),
        },
    )


@member_required(pk=Campaign)
def campaign_preview(request: MemberRequest, pk: Campaign) -> HttpResponse:
    """A step of the sequence drafted for a sample lead, to read before anyone is enrolled;
    nothing is stored."""
    steps = list(pk.steps.order_by("order"))
    leads = preview.sample_leads(campaign=pk)
    step = next((s for s in steps if str(s.order) == request.GET.get("step")), None)
    chosen = query_uuid(request.GET, "lead")
    lead = next((lead for lead in leads if str(lead.pk) == chosen), leads[0] if leads else None)
    shown = None
    if steps and lead is not None:
        shown = preview.step_preview(campaign=pk, step=step or steps[0], lead=lead)
    return render(
        request,
        "outreach/campaign_preview.html",
        {"campaign": pk, "steps": steps, "leads": leads, "preview": shown},
    )


@member_required(pk=Campaign)
def campaign_counts(request: MemberRequest, pk: Campaign) -> HttpResponse:
    """The drafts-by-status box alone, which the campaign page polls while drafts are being
    written."""
    counts = selectors.campaign_message_counts(campaign=pk)
    context = {"campaign": pk, "counts": counts}
    return render(request, "outreach/_campaign_counts.html", context)


def _ab_tables(campaign: Campaign) -> list[tuple[str, list[variants.ArmReport], str]]:
    report = variants.campaign_ab_report(campaign=campaign)
    return [
        ("By step variant", report.variants, "No steps yet."),
        ("By angle", report.angles, "Nothing sent yet."),
    ]


@require_POST
@member_required(pk=Campaign)
def campaign_steps(request: MemberRequest, pk: Campaign) -> HttpResponse:
    """Save the sequence from the campaign page: rows with a kind are kept, in order.
    The rules (first touch first, delays of 0 to 60 business days) are sequence_set's."""
    steps = [
        {
            "kind": request.POST[f"kind-{index}"],
            "delay_business_days": request.POST.get(f"delay-{index}", "").strip() or 0,
            "instructions": request.POST.get(f"instructions-{index}", "").strip(),
        }
        for index in range(campaigns.MAX_STEPS)
        if request.POST.get(f"kind-{index}")
    ]
    try:
        campaigns.sequence_set(campaign=pk, steps=steps)
    except AppError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, "Sequence saved.")
    return redirect("campaign-detail", pk=pk.pk)


@require_POST
@member_required(pk=Campaign)
def campaign_archive(request: MemberRequest, pk: Campaign) -> HttpResponse:
    campaigns.campaign_archive(campaign=pk)
    flash.success(request, f"{pk.name} is archived; its active sequences are stopped.")
    return redirect("campaign-detail", pk=pk.pk)


@require_POST
@member_required(pk=Campaign)
def campaign_enroll(request: MemberRequest, pk: Campaign) -> HttpResponse:
    try:
        limit = max(1, min(1000, int(request.POST.get("limit", "25"))))
    except ValueError:
        limit = 25
    try:
        result = enrollment.campaign_enroll(campaign=pk, limit=limit)
    except AppError as error:
        flash.error(request, error.message)
    else:
        skipped = ", ".join(f"{n} {why}" for why, n in result.skipped.items())
        flash.success(
            request,
            f"Enrolled {len(result.enrolled)} leads; drafts are being written."
            + (f" Skipped: {skipped}." if skipped else ""),
        )
    return redirect("campaign-detail", pk=pk.pk)


@member_required
def review_queue(request: MemberRequest) -> HttpResponse:
    first = review.review_queue(
        workspace=request.workspace, campaign_id=query_uuid(request.GET, "campaign")
    ).first()
    if first is None:
        return render(
            request,
            "outreach/review_empty.html",
            {"undoable": _undoable(request)},
        )
    return redirect("message-review", pk=first.pk)


def _undoable(request: MemberRequest) -> list[review.UndoOffer]:
    return review.undoable(workspace=request.workspace, user=request.user)


@member_required(pk=Message)
def message_review(request: MemberRequest, pk: Message) -> HttpResponse:
    message = pk
    facts = lead_brief(message.enrollment.lead).facts
    cited = {str(f.pk) for f in message.cited_facts.all()}
    place = review.queue_place(workspace=request.workspace, message=message)
    return render(
        request,
        "outreach/message_review.html",
        {
            "message": message,
            "lead": message.enrollment.lead,
            "facts": facts,
            "cited": cited,
            "failed_checks": [c for c in message.checks if not c["passed"]],
            "place": place,
            "queue_size": place.total,
            "next": place.next,
            "reviewable": message.status in review.REVIEWABLE,
            "held": message.status == Message.Status.HELD,
            "undoable": _undoable(request),
        },
    )


@require_POST
@member_required(pk=Message)
def message_act(request: MemberRequest, pk: Message) -> HttpResponse:
    action = request.POST.get("action")
    # Where to go after a decision: the draft after this one, not the head of the queue.
    following = review.queue_place(workspace=request.workspace, message=pk).next
    try:
        if action in ("approve", "approve_held"):
            if request.POST.get("reason", "").strip():
                # The reason box has a form of its own; a reason arriving with an approval
                # means someone meant to reject. Never approve on it.
                flash.error(request, "A reason to reject was given: press Reject to reject.")
                return redirect("message-review", pk=pk.pk)
            review.message_approve(
                message=pk,
                user=request.user,
                subject=request.POST.get("subject"),
                body=request.POST.get("body"),
                confirm_held=action == "approve_held",
            )
            flash.success(request, "Approved.")
        elif action == "save":
            review.message_save_edit(
                message=pk,
                user=request.user,
                subject=request.POST.get("subject"),
                body=request.POST.get("body"),
            )
            flash.success(request, "Edit saved as feedback; the draft is still waiting.")
            return redirect("message-review", pk=pk.pk)
        elif action == "reject":
            review.message_reject(
                message=pk, user=request.user, reason=request.POST.get("reason", "")
            )
            flash.success(request, "Rejected; the reason is kept as feedback.")
        elif action == "redraft":
            message_redraft(message=pk)
            flash.success(request, "Sent back for a new draft.")
        else:
            flash.error(request, "Unknown action.")
    except AppError as error:
        flash.error(request, error.message)
        return redirect("message-review", pk=pk.pk)
    if following is not None and following.pk != pk.pk:
        return redirect("message-review", pk=following.pk)
    return redirect("review-queue")


@require_POST
@member_required(pk=Message)
def message_settle(request: MemberRequest, pk: Message) -> HttpResponse:
    """A person's answer for a message whose send was interrupted (outreach/unknown.py)."""
    try:
        message = unknown.message_settle(message=pk, outcome=request.POST.get("outcome", ""))
    except AppError as error:
        flash.error(request, error.message)
        return redirect("message-review", pk=pk.pk)
    if message.status == Message.Status.SENT:
        flash.success(request, "Recorded as sent; the sequence goes on from here.")
    else:
        flash.success(
            request, "It will be sent again in its sending window, from the same mailbox."
        )
    return redirect("message-review", pk=message.pk)


@require_POST
@member_required(pk=Message)
def message_undo(request: MemberRequest, pk: Message) -> HttpResponse:
    try:
        message = review.message_unapprove(message=pk, user=request.user)
    except AppError as error:
        flash.error(request, error.message)
        return redirect("message-review", pk=pk.pk)
    flash.success(request, f'Undone: "{message.subject}" is back in the queue.')
    return redirect("message-review", pk=message.pk)
