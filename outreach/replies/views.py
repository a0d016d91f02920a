"""The replies inbox: filter by category, read a whole thread, correct the category, and
send the suggested answer (after a person's edits) in the same thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from outreach.models import Reply
from outreach.replies.answer import answer_send
from outreach.replies.handling import reply_category_set
from outreach.replies.selectors import reply_category_counts, reply_list, reply_thread
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.tenancy import member_required

PAGE_SIZE = 50
# What each recorded action is called on the page (the codes stay in the API).
ACTION_WORDS = {
    "classified": "Classified",
    "relabelled": "Category corrected",
    "outcome": "Outcome recorded",
    "sequence_stopped": "Sequence stopped",
    "colleague_paused": "A colleague's sequence paused",
    "suppressed": "Address suppressed",
    "bounced": "Bounced for good",
    "soft_bounce": "Temporary delivery failure",
    "resume_after": "Out of office",
    "referral": "Referral",
}


@dataclass(frozen=True)
class CategoryTab:
    value: str
    label: str
    count: int
    current: bool


@member_required
def reply_inbox(request: MemberRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    if category not in Reply.Category.values:
        category = ""
    counts = reply_category_counts(workspace=request.workspace)
    tabs = [CategoryTab("", "All", sum(counts.values()), not category)]
    tabs += [
        CategoryTab(value, str(label), counts.get(value, 0), value == category)
        for value, label in Reply.Category.choices
    ]
    replies = reply_list(workspace=request.workspace, category=category)
    page = Paginator(replies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "outreach/reply_inbox.html",
        {"tabs": tabs, "page": page, "category": category},
    )


@member_required(pk=Reply)
def reply_detail(request: MemberRequest, pk: Reply) -> HttpResponse:
    reply = pk
    return render(
        request,
        "outreach/reply_detail.html",
        {
            "reply": reply,
            "thread": reply_thread(reply=reply),
            "actions": _actions(reply),
            "labels": reply.labels.select_related("user")[:20],
            "categories": Reply.Category.choices,
            "failed_checks": [c for c in reply.suggestion_checks if not c.get("passed")],
            "can_answer": reply.answer_id is None and reply.enrollment_id is not None,
        },
    )


def _actions(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "label": ACTION_WORDS.get(str(a.get("action")), "Done"),
            "detail": a.get("detail", ""),
            "at": a.get("at", ""),
        }
        for a in reply.actions
    ]


@require_POST
@member_required(pk=Reply)
def reply_category(request: MemberRequest, pk: Reply) -> HttpResponse:
    try:
        reply = reply_category_set(
            reply=pk,
            category=request.POST.get("category", ""),
            note=request.POST.get("note", ""),
            user=request.user,
        )
    except AppError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, f"Category set to {reply.get_category_display().lower()}.")
    return redirect("reply-detail", pk=pk.pk)


@require_POST
@member_required(pk=Reply)
def reply_answer(request: MemberRequest, pk: Reply) -> HttpResponse:
    try:
        answer_send(
            reply=pk,
            subject=request.POST.get("subject", ""),
            body=request.POST.get("body", ""),
            user=request.user,
        )
    except AppError as error:
        flash.error(request, error.message)
    else:
        flash.success(
            request,
            "Answer approved: it goes out in the same thread from the thread's mailbox "
            "after the undo window, inside the lead's sending hours.",
        )
    return redirect("reply-detail", pk=pk.pk)
