"""Set, rotate or turn off a workspace's inbound-email webhook secret."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from outreach.replies.webhook import inbound_secret_disable, inbound_secret_rotate
from sdr import rls
from sdr.models import Workspace


class Command(BaseCommand):
    help = (
        "Give the workspace a secret for the signed inbound-email webhook and print it once "
        "(it is stored encrypted and never shown again). With a secret already set, "
        "--rotate replaces it (the old one stops working at once); --disable turns the "
        "webhook off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rotate", action="store_true")
        action.add_argument("--disable", action="store_true")

    @rls.in_named_workspace
    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        if options["disable"]:
            inbound_secret_disable(workspace=workspace)
            self.stdout.write("The inbound-email webhook is off for this workspace.")
            return
        if workspace.inbound_webhook_secret and not options["rotate"]:
            raise CommandError(
                "This workspace already has a secret (it is never shown again); "
                "pass --rotate to replace it."
            )
        secret = inbound_secret_rotate(workspace=workspace)
        url = settings.PUBLIC_BASE_URL + reverse("inbound-email-webhook", args=[workspace.slug])
        self.stdout.write(f"URL:    {url}")
        self.stdout.write(f"Secret: {secret}")
        self.stdout.write("Keep the secret now: it is not shown again.")
