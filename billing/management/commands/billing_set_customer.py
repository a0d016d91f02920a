from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.accounts import customer_link
from billing.stripe_client import StripeError
from sdr import rls
from sdr.errors import AppError
from sdr.models import Workspace


class Command(BaseCommand):
    help = (
        "Link a workspace to an existing Stripe customer (for customers invoiced outside Checkout)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="workspace slug")
        parser.add_argument("--customer", required=True, help="Stripe customer id, cus_...")

    @rls.in_named_workspace
    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {options['workspace']!r}.")
        try:
            account = customer_link(workspace=workspace, customer_id=options["customer"])
        except (AppError, StripeError) as error:
            raise CommandError(getattr(error, "message", str(error))) from error
        self.stdout.write(f"{workspace.slug} is billed to {account.stripe_customer_id}.")
