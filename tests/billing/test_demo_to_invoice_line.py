"""The issue's "done when": from a positive reply in the demo to a meter event at the
(loopback) Stripe server to a line on the billing page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from billing.models import BillableEvent
from sdr.models import Workspace
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


def test_a_demo_positive_reply_reaches_stripe_and_the_billing_page(
    settings: Any, stripe_server: FakeStripe, client: Client
) -> None:
    settings.DEMO_SITES_PORT = 18151  # clear of a demo someone may be running
    call_command("seed_demo")
    workspace = Workspace.objects.get(slug="demo")
    event = BillableEvent.objects.for_workspace(workspace).get(kind="positive_reply")
    assert event.evidence_type == "reply"

    customer = stripe_server.customer_add()
    call_command("billing_set_customer", workspace="demo", customer=customer)
    call_command("billing_report")

    sent = stripe_server.meter_events[str(event.pk)]
    assert sent["payload"]["stripe_customer_id"] == customer
    client.login(username="demo@example.com", password="demo-password")
    page = client.get("/billing/").content.decode()
    assert f'id="event-{event.pk}"' in page
    assert "Reported" in page
