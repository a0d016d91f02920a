"""The billing page, its actions, and the Stripe webhook endpoint."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import accounts, selectors, spend, stripe_client
from billing.disputes import event_dispute
from billing.ledger import account_for
from billing.models import BillableEvent
from billing.webhooks import webhook_receive
from sdr import rls
from sdr.errors import AppError
from sdr.http import MemberRequest
from sdr.tenancy import member_required


@member_required
def billing_page(request: MemberRequest) -> HttpResponse:
    page = selectors.billing_page(workspace=request.workspace)
    return render(
        request,
        "billing/billing.html",
        {"page": page, "can_manage": request.membership.can_manage},
    )


@require_POST
@member_required(pk=BillableEvent)
def billing_dispute(request: MemberRequest, pk: BillableEvent) -> HttpResponse:
    try:
        event_dispute(event=pk, reason=request.POST.get("reason", ""), user=request.user)
    except AppError as error:
        flash.error(request, error.message)
    else:
        flash.success(request, "Disputed: this charge is on hold while we look at it.")
    return redirect("billing")


@require_POST
@member_required
def billing_checkout(request: MemberRequest) -> HttpResponse:
    if not _can_act(request):
        return redirect("billing")
    page = request.build_absolute_uri(reverse("billing"))
    try:
        url = accounts.checkout_url(
            workspace=request.workspace, success_url=page + "?checkout=done", cancel_url=page
        )
    except (AppError, stripe_client.StripeError) as error:
        flash.error(request, getattr(error, "message", str(error)))
        return redirect("billing")
    return redirect(url)


@require_POST
@member_required
def billing_portal(request: MemberRequest) -> HttpResponse:
    if not _can_act(request):
        return redirect("billing")
    try:
        url = accounts.portal_url(
            workspace=request.workspace, return_url=request.build_absolute_uri(reverse("billing"))
        )
    except (AppError, stripe_client.StripeError) as error:
        flash.error(request, getattr(error, "message", str(error)))
        return redirect("billing")
    return redirect(url)


@require_POST
@member_required
def billing_cap(request: MemberRequest) -> HttpResponse:
    if not request.membership.can_manage:
        flash.error(request, "Only owners and admins can change the spend cap.")
        return redirect("billing")
    raw = request.POST.get("spend_cap", "").strip()
    try:
        cap = Decimal(raw) if raw else None
    except InvalidOperation:
        cap = Decimal(-1)
    if cap is not None and (cap < 0 or not cap.is_finite() or cap > Decimal("9999999999")):
        flash.error(request, "The spend cap must be an amount such as 500 or 500.00.")
        return redirect("billing")
    spend.cap_set(account=account_for(request.workspace), cap=cap, now=timezone.now())
    flash.success(request, "Spend cap saved." if cap is not None else "Spend cap removed.")
    return redirect("billing")


def _can_act(request: MemberRequest) -> bool:
    if not stripe_client.billing_enabled():
        flash.error(request, "Billing is off on this installation (no STRIPE_SECRET_KEY).")
        return False
    if not request.membership.can_manage:
        flash.error(request, "Only owners and admins can manage the subscription.")
        return False
    return True


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's calls: no session, no workspace; the signature is the authentication."""
    try:
        # Stripe speaks for every customer: an event names its account by Stripe's
        # customer id, which is looked up across workspaces once the signature holds.
        with rls.cross_workspace():
            received = webhook_receive(
                payload=request.body, signature=request.headers.get("Stripe-Signature", "")
            )
    except stripe_client.BadSignature:
        return JsonResponse({"error": "bad signature"}, status=400)
    return JsonResponse({"result": received.result}, status=received.status)
