from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.disputes import dispute_resolve
from billing.models import BillableEvent
from sdr import rls
from sdr.errors import AppError


class Command(BaseCommand):
    help = (
        "Decide a disputed charge (staff): --credit upholds the dispute (meter event cancelled "
        "or balance credited); --uphold keeps the charge."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--event", required=True, help="billable event id")
        decision = parser.add_mutually_exclusive_group(required=True)
        decision.add_argument("--credit", action="store_true")
        decision.add_argument("--uphold", action="store_true")
        parser.add_argument("--note", default="", help="why; shown to the customer")

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        event = BillableEvent.unscoped_objects.filter(pk=options["event"]).first()
        if event is None:
            raise CommandError(f"No billable event {options['event']}.")
        try:
            event = dispute_resolve(event=event, credit=options["credit"], note=options["note"])
        except AppError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{event.pk}: {event.status} {event.credit_method}".rstrip())
