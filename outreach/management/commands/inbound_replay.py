"""Read again the stored messages that could not be read (after a parser fix), or that
matched no thread (after the leads they answer were imported)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.models import InboundEmail, Reply
from outreach.replies.ingest import REPLAYABLE, inbound_process, inbound_replay
from sdr import rls
from sdr.models import Workspace


class Command(BaseCommand):
    help = (
        "Send stored messages that ended unparseable (and, with --status unmatched, those "
        "that matched no thread) through parsing, threading and handling again, in-line. "
        "A reply made before is brought up to date, never made twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument(
            "--status",
            action="append",
            choices=list(REPLAYABLE),
            help="which messages to read again (repeatable; default: unparseable)",
        )

    @rls.in_named_workspace
    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        statuses = options["status"] or [InboundEmail.Status.UNPARSEABLE]
        moved = inbound_replay(
            InboundEmail.objects.for_workspace(workspace), statuses=statuses, hint=False
        )
        for inbound_id in moved:
            inbound_process(inbound_id=inbound_id)
            inbound = InboundEmail.objects.for_workspace(workspace).get(pk=inbound_id)
            reply = Reply.objects.for_workspace(workspace).filter(inbound=inbound).first()
            category = f", reply {reply.category}" if reply else ""
            error = f": {inbound.error}" if inbound.error else ""
            self.stdout.write(f"inbound {inbound.pk} {inbound.status}{category}{error}")
        self.stdout.write(f"{len(moved)} message(s) read again.")
