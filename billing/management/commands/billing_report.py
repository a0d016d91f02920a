from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.reporting import events_report_pending
from billing.stripe_client import billing_enabled
from sdr import rls


class Command(BaseCommand):
    help = "Run one pass of the billing outbox: send every due pending event to Stripe."

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        if not billing_enabled():
            raise CommandError("Billing is off: set STRIPE_SECRET_KEY.")
        self.stdout.write(events_report_pending().summary())
