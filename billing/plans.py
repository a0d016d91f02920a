"""The price list: typed local data, mapped to Stripe by lookup keys and meter event names.

Stripe is told about this list by `manage.py billing_sync_catalog`; the code never reads
prices back from Stripe metadata at run time. A billable event keeps the price it had when
it was recorded, so changing a price here changes future events only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from outreach.models import Outcome

CURRENCY = "usd"


@dataclass(frozen=True)
class OutcomePrice:
    kind: str  # an Outcome.Kind value
    amount: Decimal  # per outcome, in CURRENCY
    lookup_key: str  # the Stripe price's lookup_key
    meter_event_name: str  # the Stripe Billing Meter's event_name

    @property
    def unit_amount_cents(self) -> int:
        return int(self.amount * 100)


@dataclass(frozen=True)
class Plan:
    key: str
    name: str
    base_fee: Decimal  # per month
    base_lookup_key: str
    included_leads: int  # leads researched and contacted per month within the base fee
    outcome_prices: tuple[OutcomePrice, ...]
    dispute_window_days: int = 7
    # After a failed payment, sending goes on this long before it pauses until paid.
    payment_grace_days: int = 3

    @property
    def product_id(self) -> str:
        # A product id of our own: creating it twice is a conflict, not a second product.
        return f"sdr_plan_{self.key}"

    def price_for(self, kind: str) -> OutcomePrice | None:
        return next((p for p in self.outcome_prices if p.kind == kind), None)

    @property
    def billed_kinds(self) -> list[str]:
        return [p.kind for p in self.outcome_prices]


# One meter per outcome kind: the same event name across plans, so a customer who changes
# plan keeps one meter (its price is what differs).
METER_EVENT_NAMES: dict[str, str] = {
    Outcome.Kind.POSITIVE_REPLY: "sdr_positive_reply",
    Outcome.Kind.MEETING_BOOKED: "sdr_meeting_booked",
}
METER_DISPLAY_NAMES: dict[str, str] = {
    Outcome.Kind.POSITIVE_REPLY: "Positive replies",
    Outcome.Kind.MEETING_BOOKED: "Meetings booked",
}

OUTCOME = Plan(
    key="outcome",
    name="Outcome",
    base_fee=Decimal("299.00"),
    base_lookup_key="sdr_outcome_base_monthly",
    included_leads=750,
    outcome_prices=(
        OutcomePrice(
            Outcome.Kind.POSITIVE_REPLY,
            Decimal("9.00"),
            "sdr_outcome_positive_reply",
            METER_EVENT_NAMES[Outcome.Kind.POSITIVE_REPLY],
        ),
        OutcomePrice(
            Outcome.Kind.MEETING_BOOKED,
            Decimal("75.00"),
            "sdr_outcome_meeting_booked",
            METER_EVENT_NAMES[Outcome.Kind.MEETING_BOOKED],
        ),
    ),
)

PLANS: dict[str, Plan] = {OUTCOME.key: OUTCOME}
DEFAULT_PLAN = OUTCOME.key


def plan_get(key: str) -> Plan:
    return PLANS.get(key) or PLANS[DEFAULT_PLAN]
