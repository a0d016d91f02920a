"""One pass of the dispatcher that beat runs every minute, with an optional clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.dispatch import dispatch_due
from sdr import rls


class Command(BaseCommand):
    help = (
        "Queue the approved messages that may go now (sending window, mailbox caps and "
        "spacing, suppressions) and say why the others wait. With eager tasks (the demo) "
        "the queued messages are sent before the command ends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="the clock for this pass, ISO-8601 (2026-12-01T09:30:00+01:00; UTC if no offset)",
        )

    @rls.across_workspaces
    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"]) if options["now"] else None
        report = dispatch_due(now=now)
        self.stdout.write(report.summary())
        if report.queued and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write("Eager mode: the queued messages were handed to the sender.")


def _parse_now(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"--now {raw!r} is not an ISO-8601 time, e.g. 2026-12-01T09:30:00+01:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
