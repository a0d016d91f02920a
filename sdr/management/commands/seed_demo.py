"""Migrate and create the demo workspace with data. Running it again changes nothing."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from sdr import rls
from sdr.models import Membership, Workspace

DEMO_SLUG = "demo"
DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published login, never production
# The demo's sample sites (leads/demo.py) and its mailbox live on loopback, which every
# other process refuses like any non-public address (the *_ALLOWED_NETWORKS settings
# default to none, DEBUG or not).
LOOPBACK_NETWORKS = ("127.0.0.1/32", "::1/128")
DEMO_NETWORK_SETTINGS = (
    "FETCH_ALLOWED_NETWORKS",
    "MAILBOX_ALLOWED_NETWORKS",
    "WEBHOOK_ALLOWED_NETWORKS",
    "LLM_ALLOWED_NETWORKS",
)


class Command(BaseCommand):
    help = "Migrate the database and create the demo workspace, its user and data (idempotent)."

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        demo_loopback_allow()  # seeding researches the sample sites
        call_command("migrate", interactive=False, verbosity=0)
        with transaction.atomic():
            workspace = seed_demo_workspace()
        from leads.demo import seed_demo_leads
        from outreach.demo import seed_demo_campaign, seed_demo_replies
        from ranking.demo import seed_demo_night, seed_demo_ranking

        seed_demo_leads(workspace=workspace)
        # Scored before the campaign: enrollment takes leads in score order.
        seed_demo_ranking(workspace=workspace)
        seed_demo_campaign(workspace=workspace)
        seed_demo_replies(workspace=workspace)  # its outcomes re-score the leads
        seed_demo_night(workspace=workspace)
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


def demo_loopback_allow() -> None:
    """Let this process reach loopback: research, mailboxes and webhooks. Only the demo
    commands call it, and only for their own process: `demo` serves the product from this
    same process (runserver without the reloader, tasks run eagerly), so nothing else
    inherits it. Networks already allowed by the environment are kept."""
    for name in DEMO_NETWORK_SETTINGS:
        allowed = list(getattr(settings, name))
        setattr(settings, name, allowed + [n for n in LOOPBACK_NETWORKS if n not in allowed])
