from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.catalog import catalog_sync
from billing.stripe_client import StripeError, billing_enabled
from sdr import rls


class Command(BaseCommand):
    help = "Create or update the Stripe products, prices and Billing Meters of billing/plans.py."

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        if not billing_enabled():
            raise CommandError("Billing is off: set STRIPE_SECRET_KEY.")
        try:
            report = catalog_sync()
        except StripeError as error:
            raise CommandError(f"Stripe: {error.message}") from error
        self.stdout.write(report.summary())
