from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sdr import rls, services
from sdr.errors import AppError
from sdr.models import Workspace


class Command(BaseCommand):
    help = "Create an API key for a workspace and print it once (it is stored only hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace slug.")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'HubSpot'.")
        parser.add_argument(
            "--scopes",
            default="read,write",
            help="Comma-separated, among read, write, send, admin (default: read,write).",
        )

    @rls.in_named_workspace
    def handle(self, *args: Any, workspace: str, name: str, scopes: str, **options: Any) -> None:
        target = Workspace.objects.filter(slug=workspace).first()
        if target is None:
            raise CommandError(f"No workspace with the slug {workspace!r}.")
        try:
            _, key = services.api_key_create(
                workspace=target, name=name, scopes=[s.strip() for s in scopes.split(",")]
            )
        except AppError as error:
            raise CommandError(error.message) from error
        # The key alone on stdout, so scripts can capture it; the advice on stderr.
        self.stdout.write(key)
        self.stderr.write(
            f"Created API key {name!r} for {target.slug}. Store it now: it cannot be shown again."
        )
