"""Draft one email from JSON descriptions of a lead and a campaign, and show the checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.drafting import draft_produce
from outreach.drafting.from_json import BriefError, campaign_from_json, lead_from_json
from sdr import rls
from sdr.models import Workspace

T = TypeVar("T")


class Command(BaseCommand):
    help = (
        "Draft one email through the configured LLM (or the offline drafter) and print the "
        "draft, its citations and the verification results."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lead-json", required=True, help="lead with facts and signals")
        parser.add_argument("--campaign-json", required=True, help="campaign (and step)")
        parser.add_argument(
            "--workspace", default="demo", help="workspace whose LLM settings and call log to use"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    @rls.in_named_workspace
    def handle(self, *args: Any, **options: Any) -> None:
        lead = self._load(options["lead_json"], lead_from_json)
        campaign, step, others = self._load(options["campaign_json"], campaign_from_json)
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(
                f"No workspace {options['workspace']!r}: run "
                "`manage.py seed_demo` or pass --workspace SLUG."
            )
        outcome = draft_produce(
            workspace=workspace, lead=lead, campaign=campaign, step=step, other_bodies=others
        )
        result = {
            "status": outcome.status,
            "subject": outcome.draft.subject if outcome.draft else "",
            "body": outcome.draft.body if outcome.draft else "",
            "citations": outcome.draft.citations if outcome.draft else [],
            "angle": outcome.draft.angle.as_dict() if outcome.draft else {},
            "drafter": outcome.draft.drafter if outcome.draft else "",
            "model": outcome.draft.model if outcome.draft else "",
            "prompt_version": outcome.draft.prompt_version if outcome.draft else "",
            "checks": [check.as_dict() for check in outcome.checks],
            "attempts": outcome.attempts,
            "reason": outcome.reason,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))
        else:
            self._summary(result)
        if outcome.status == "failed":
            raise CommandError(f"Drafting failed: {outcome.reason}")

    def _load(self, path: str, parse: Callable[[Any], T]) -> T:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CommandError(f"No such file: {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not valid JSON: {error}") from None
        try:
            return parse(data)
        except BriefError as error:
            raise CommandError(f"{path}: {error}") from None

    def _summary(self, result: dict) -> None:
        self.stdout.write(f"[{result['status']}] {result['subject']}\n\n{result['body']}\n")
        for check in result["checks"]:
            mark = "ok  " if check["passed"] else "FAIL"
            self.stdout.write(f"{mark} {check['name']} {check['detail']}")
