"""The billing banner on every page: sending paused by billing, said where it is seen."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from billing.models import BillingAccount
from billing.spend import hold_reason

register = template.Library()


@register.inclusion_tag("billing/banner.html", takes_context=True)
def billing_banner(context: dict[str, Any]) -> dict[str, Any]:
    workspace = context.get("current_workspace")
    if workspace is None:
        return {"reason": ""}
    account = BillingAccount.objects.for_workspace(workspace).first()
    reason = hold_reason(account, now=timezone.now()) if account is not None else ""
    return {"reason": reason}
