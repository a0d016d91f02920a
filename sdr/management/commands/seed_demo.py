"""Migrate and create the demo workspace with data. Running it again changes nothing."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from sdr.models import Membership, Workspace

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published login, never production


class Command(BaseCommand):
    help = "Migrate the database and create the demo workspace, its user and data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic():
            workspace = seed_demo_workspace()
        from leads.demo import seed_demo_leads
        from outreach.demo import seed_demo_campaign, seed_demo_replies

        seed_demo_leads(workspace=workspace)
        seed_demo_campaign(workspace=workspace)
        seed_demo_replies(workspace=workspace)
        self.stdout.write(
            f"Demo workspace '{workspace.slug}' is ready.\n"
            f"Sign in at http://127.0.0.1:8000/ as {DEMO_USERNAME} / {DEMO_PASSWORD}"
        )


def seed_demo_workspace() -> Workspace:
    workspace, _ = Workspace.objects.get_or_create(slug=DEMO_SLUG, defaults={"name": "Demo Co"})
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        user = User.objects.create_user(
            username=DEMO_USERNAME,
            email=DEMO_USERNAME,
            password=DEMO_PASSWORD,
            first_name="Demo",
            last_name="User",
        )
    Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": Membership.Role.OWNER}
    )
    return workspace
