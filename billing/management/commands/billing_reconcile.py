from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.reconcile import ledger_reconcile
from billing.stripe_client import billing_enabled
from sdr import rls


class Command(BaseCommand):
    help = (
        "Compare this month's ledger with Stripe's meter event summaries (what beat runs nightly)."
    )

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        if not billing_enabled():
            raise CommandError("Billing is off: set STRIPE_SECRET_KEY.")
        differences = ledger_reconcile()
        for d in differences:
            self.stdout.write(
                f"{d.customer_id} {d.meter_event_name}: ledger {d.ledger}, Stripe {d.stripe}"
            )
        self.stdout.write(f"{len(differences)} differences")
