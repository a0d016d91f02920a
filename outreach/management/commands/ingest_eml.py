"""Read .eml files as if they had arrived: the zero-setup way in for replies, and the way
to try a message a customer forwarded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.models import InboundEmail, Mailbox, Reply
from outreach.replies.ingest import inbound_process, inbound_store
from sdr import rls
from sdr.models import Workspace


class Command(BaseCommand):
    help = (
        "Store each raw message file (.eml) in the workspace and read it at once: parse, "
        "thread to our messages, classify and act. Prints per file the stored message's "
        "id, its status and the reply's category; a bad file is reported and the others "
        "go on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument(
            "--mailbox", metavar="EMAIL", help="the mailbox the messages arrived in"
        )

    @rls.in_named_workspace
    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"No workspace with the slug {options['workspace']!r}.")
        mailbox = None
        if options["mailbox"]:
            mailbox = (
                Mailbox.objects.for_workspace(workspace)
                .filter(from_email__iexact=options["mailbox"].strip())
                .first()
            )
            if mailbox is None:
                raise CommandError(f"No mailbox {options['mailbox']!r} in this workspace.")
        failed = 0
        for name in options["files"]:
            try:
                raw = Path(name).read_bytes()
            except OSError as error:
                failed += 1
                self.stderr.write(f"{name}: cannot be read ({error.strerror or error})")
                continue
            if not raw.strip():
                failed += 1
                self.stderr.write(f"{name}: the file is empty")
                continue
            inbound, created = inbound_store(
                workspace, raw, source=InboundEmail.Source.FILE, mailbox=mailbox, hint=False
            )
            if inbound.status == InboundEmail.Status.RECEIVED:
                inbound_process(inbound_id=inbound.pk)
                inbound.refresh_from_db(fields=["status", "error"])
            self.stdout.write(f"{name}: {_line(inbound, created)}")
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} files could not be read.")


def _line(inbound: InboundEmail, created: bool) -> str:
    words = f"inbound {inbound.pk} {inbound.status}"
    if not created:
        words += " (stored before)"
    reply = Reply.objects.for_workspace(inbound.workspace).filter(inbound=inbound).first()
    if reply is not None:
        words += f", reply {reply.category} (thread: {reply.thread_match})"
    if inbound.error:
        words += f": {inbound.error}"
    return words
