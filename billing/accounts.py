"""A workspace's Stripe customer and subscription: link, Checkout, portal."""

from __future__ import annotations

from django.db import transaction

from billing import stripe_client
from billing.ledger import account_for
from billing.models import BillingAccount
from billing.plans import plan_get
from billing.webhooks import _customer_linked
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace


def customer_link(*, workspace: Workspace, customer_id: str) -> BillingAccount:
    """Bill the workspace to an existing Stripe customer (checked at Stripe when billing
    is on); pending events waiting for a customer are reported next."""
    customer_id = customer_id.strip()
    if not customer_id.startswith("cus_"):
        raise AppError(ErrorCode.INVALID, "A Stripe customer id starts with cus_.")
    if stripe_client.billing_enabled() and not stripe_client.customer_exists(customer_id):
        raise AppError(ErrorCode.NOT_FOUND, f"Stripe has no customer {customer_id}.")
    with transaction.atomic():
        account = account_for(workspace)
        previous = account.stripe_customer_id
        account.stripe_customer_id = customer_id
        account.save(update_fields=["stripe_customer_id", "updated_at"])
        activity_record(
            workspace=workspace,
            type="billing.customer_linked",
            object_type="billing_account",
            object_id=account.pk,
            payload={"customer": customer_id, "previous": previous},
        )
        _customer_linked(account)
    return account


def checkout_url(*, workspace: Workspace, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout page that starts the plan's subscription for this workspace."""
    account = account_for(workspace)
    plan = plan_get(account.plan)
    keys = [plan.base_lookup_key, *[p.lookup_key for p in plan.outcome_prices]]
    prices = stripe_client.prices_by_lookup_key(keys)
    missing = [key for key in keys if key not in prices]
    if missing:
        raise AppError(
            ErrorCode.CONFLICT,
            f"Stripe has no price for {', '.join(missing)}: run manage.py billing_sync_catalog.",
            status_code=409,
        )
    return stripe_client.checkout_session_create(
        workspace_id=str(workspace.pk),
        customer_id=account.stripe_customer_id,
        base_price_id=prices[plan.base_lookup_key].id,
        price_ids=[prices[p.lookup_key].id for p in plan.outcome_prices],
        success_url=success_url,
        cancel_url=cancel_url,
    )


def portal_url(*, workspace: Workspace, return_url: str) -> str:
    account = account_for(workspace)
    if not account.stripe_customer_id:
        raise AppError(ErrorCode.CONFLICT, "Subscribe first: there is no Stripe customer yet.")
    return stripe_client.portal_session_create(
        customer_id=account.stripe_customer_id, return_url=return_url
    )
