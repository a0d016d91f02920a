"""Bring Stripe's products, prices and Billing Meters in line with billing/plans.py.

Idempotent: products have ids of our own, prices are found by lookup key, meters by event
name; a second run creates nothing. A price whose amount changed becomes a new price that
takes over the lookup key (Stripe prices are immutable); the old one stays for the
subscriptions on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billing import stripe_client
from billing.plans import CURRENCY, METER_DISPLAY_NAMES, METER_EVENT_NAMES, PLANS


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}"
            + "".join(f"\n  + {name}" for name in self.created)
            + "".join(f"\n  ~ {name}" for name in self.updated)
        )


def catalog_sync() -> SyncReport:
    report = SyncReport()
    meters = {m.event_name: m for m in stripe_client.meters_list()}
    meter_ids: dict[str, str] = {}
    for kind, event_name in METER_EVENT_NAMES.items():
        display = METER_DISPLAY_NAMES[kind]
        meter = meters.get(event_name)
        if meter is None:
            meter = stripe_client.meter_create(event_name=event_name, display_name=display)
            report.created.append(f"meter {event_name}")
        elif meter.display_name != display:
            stripe_client.meter_update(meter_id=meter.id, display_name=display)
            report.updated.append(f"meter {event_name}")
        else:
            report.unchanged.append(f"meter {event_name}")
        meter_ids[event_name] = meter.id

    for plan in PLANS.values():
        label = f"product {plan.product_id}"
        if stripe_client.product_ensure(product_id=plan.product_id, name=f"AI SDR {plan.name}"):
            report.created.append(label)
        else:
            report.unchanged.append(label)
        wanted: list[tuple[str, int, str | None]] = [
            (plan.base_lookup_key, int(plan.base_fee * 100), None)
        ]
        wanted += [
            (p.lookup_key, p.unit_amount_cents, meter_ids[p.meter_event_name])
            for p in plan.outcome_prices
        ]
        existing = stripe_client.prices_by_lookup_key([key for key, _, _ in wanted])
        for lookup_key, amount, meter_id in wanted:
            price = existing.get(lookup_key)
            if price is not None and price.unit_amount == amount and price.currency == CURRENCY:
                report.unchanged.append(f"price {lookup_key}")
                continue
            stripe_client.price_create(
                product_id=plan.product_id,
                lookup_key=lookup_key,
                unit_amount=amount,
                currency=CURRENCY,
                meter_id=meter_id,
            )
            (report.updated if price is not None else report.created).append(f"price {lookup_key}")
    return report
