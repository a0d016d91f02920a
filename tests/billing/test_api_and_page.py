"""The ledger in the API and on the billing page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing.models import BillableEvent
from sdr.models import Workspace
from tests.billing.helpers import positive_reply, subscribed
from tests.factories import LLMCallFactory, MessageFactory
from tests.stripe_server import FakeStripe

pytestmark = pytest.mark.django_db


def test_the_api_lists_the_ledger_with_each_rows_status(
    api: APIClient, workspace: Workspace, neighbour: Any
) -> None:
    event = positive_reply(workspace, "Happy to chat next week.")

    listing = api.get("/api/v1/billing/events/").json()
    detail = api.get(f"/api/v1/billing/events/{event.pk}/").json()

    assert [row["id"] for row in listing["results"]] == [str(event.pk)]
    assert listing["results"][0]["status"] == "pending"
    assert detail["evidence"] == "Happy to chat next week."
    assert detail["price"] == "9.00"
    assert detail["kind"] == "positive_reply"
    theirs = BillableEvent.unscoped_objects.filter(workspace=neighbour.workspace).get()
    assert api.get(f"/api/v1/billing/events/{theirs.pk}/").status_code == 404


def test_the_api_list_filters_by_status(api: APIClient, workspace: Workspace) -> None:
    positive_reply(workspace)

    assert api.get("/api/v1/billing/events/?status=reported").json()["results"] == []
    assert len(api.get("/api/v1/billing/events/?status=pending").json()["results"]) == 1


def test_the_list_endpoint_runs_a_fixed_number_of_queries(
    api: APIClient, workspace: Workspace, django_assert_max_num_queries: Any
) -> None:
    for _ in range(5):
        positive_reply(workspace)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/billing/events/").json()["results"]) == 5


def test_with_billing_off_the_page_says_so_and_still_shows_the_ledger(
    web: Client, workspace: Workspace, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = ""
    positive_reply(workspace, "Let's set up a call.")

    page = web.get("/billing/").content.decode()

    assert "Billing is off" in page
    assert "Let&#x27;s set up a call." in page
    assert "Subscribe with Stripe Checkout" not in page


def test_the_page_shows_usage_cost_invoices_and_model_cost_per_outcome(
    web: Client, workspace: Workspace, stripe_server: FakeStripe
) -> None:
    account = subscribed(workspace, stripe_server)
    stripe_server.invoice_add(account.stripe_customer_id, total=31800)
    event = positive_reply(workspace)
    message: Any = MessageFactory(
        workspace=workspace, enrollment__lead=event.lead, enrollment__workspace=workspace
    )
    LLMCallFactory(
        workspace=workspace,
        subject_type="message",
        subject_id=str(message.pk),
        cost=Decimal("0.0123"),
    )

    page = web.get("/billing/").content.decode()

    assert "Billing is off" not in page
    assert "SDR-0001" in page and "318" in page  # the invoice from Stripe
    assert "Positive reply" in page and "9.00" in page
    assert "0.0123" in page  # the model cost of the lead's email next to its price


def test_an_owner_subscribes_through_stripe_checkout(
    web: Client, workspace: Workspace, stripe_server: FakeStripe, member: Any
) -> None:
    from billing.catalog import catalog_sync
    from sdr.models import Membership

    Membership.objects.filter(user=member).update(role=Membership.Role.OWNER)
    catalog_sync()

    response = web.post("/billing/checkout/")

    assert response.status_code == 302
    assert response["Location"].startswith("https://checkout.stripe.test/")
    [session] = stripe_server.checkout_sessions
    assert session["client_reference_id"] == str(workspace.pk)
    assert session["mode"] == "subscription"
    assert len(session["line_items"]) == 3


def test_an_outcome_is_disputed_through_its_billing_event(
    api: APIClient, workspace: Workspace
) -> None:
    event = positive_reply(workspace, "Sure, send details.")
    assert event.outcome_id is not None
    response = api.post(
        f"/api/v1/outcomes/{event.outcome_id}/dispute/",
        {"reason": "That was an out-of-office, not a reply."},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["id"] == str(event.pk)
    event.refresh_from_db()
    assert event.status == BillableEvent.Status.DISPUTED


def test_disputing_an_outcome_that_was_not_billed_is_a_409(
    api: APIClient, workspace: Workspace
) -> None:
    from tests.factories import OutcomeFactory

    outcome = OutcomeFactory(workspace=workspace, kind="not_interested")
    response = api.post(f"/api/v1/outcomes/{outcome.pk}/dispute/", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert "not billed" in response.json()["error"]["message"]
