"""Web UI for campaigns and the review queue."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from outreach import campaigns, enrollment, review, selectors
from outreach.briefs_from_db import lead_brief
from outreach.forms import CampaignForm
from outreach.messages import message_redraft
from outreach.models import Campaign, Message, SequenceStep
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
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        campaign = campaigns.campaign_create(workspace=request.workspace, **form.cleaned_data)
        flash.success(request, "Campaign created with a three-step sequence.")
        return redirect("campaign-detail", pk=campaign.pk)
    return render(request, "outreach/campaign_form.html", {"form": form})


@member_required(pk=Campaign)
def campaign_edit(request: MemberRequest, pk: Campaign) -> HttpResponse:
    form = CampaignForm(request.POST or None, instance=pk)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.campaign_update(campaign=pk, **form.cleaned_data)
        except AppError as error:
            flash.error(request, error.message)
        else:
            flash.success(request, "Campaign saved.")
        return redirect("campaign-detail", pk=pk.pk)
    return render(request, "outreach/campaign_form.html", {"form": form, "campaign": pk})


@member_required(pk=Campaign)
def campaign_detail(request: MemberRequest, pk: Campaign) -> HttpResponse:
    steps = list(pk.steps.order_by("order"))
    return render(
        request,
        "outreach/campaign_detail.html",
        {
            "campaign": pk,
            "step_rows": [*steps, *[None] * (campaigns.MAX_STEPS - len(steps))],
            "step_kinds": SequenceStep.Kind.choices,
            "counts": selectors.campaign_message_counts(campaign=pk),
            "eligible": enrollment.eligible_leads(campaign=pk).count(),
            "recent": selectors.message_list(
                workspace=request.workspace, campaign_id=str(pk.pk)
            ).order_by("-created_at")[:25],
        },
    )


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
    queue = selectors.review_queue(
        workspace=request.workspace, campaign_id=request.GET.get("campaign", "")
    )
    first = queue.first()
    if first is None:
        return render(request, "outreach/review_empty.html")
    return redirect("message-review", pk=first.pk)


@member_required(pk=Message)
def message_review(request: MemberRequest, pk: Message) -> HttpResponse:
    message = pk
    facts = lead_brief(message.enrollment.lead).facts
    cited = {str(f.pk) for f in message.cited_facts.all()}
    queue = selectors.review_queue(workspace=request.workspace)
    return render(
        request,
        "outreach/message_review.html",
        {
            "message": message,
            "lead": message.enrollment.lead,
            "facts": facts,
            "cited": cited,
            "failed_checks": [c for c in message.checks if not c["passed"]],
            "queue_size": queue.count(),
            "next": queue.exclude(pk=message.pk).first(),
            "reviewable": message.status in review.REVIEWABLE,
        },
    )


@require_POST
@member_required(pk=Message)
def message_act(request: MemberRequest, pk: Message) -> HttpResponse:
    action = request.POST.get("action")
    try:
        if action == "approve":
            review.message_approve(
                message=pk,
                user=request.user,
                subject=request.POST.get("subject"),
                body=request.POST.get("body"),
            )
            flash.success(request, "Approved.")
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
    return redirect("review-queue")
