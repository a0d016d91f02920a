"""Parse raw .eml files offline and show what the reply pipeline would read from them.

Needs no database: it only calls the pure parser and the rules classifier.
Exit status: 0 when every file was parsed, 1 when any file could not be read or parsed
(its line still prints, with an "error"), 2 for bad arguments (Django's own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outreach.replies.parsing import UnparseableEmail, classify_rules, parse_raw

MAX_FILE_BYTES = 50_000_000


class Command(BaseCommand):
    help = "Parse raw email files (.eml) and print visible text, auto-reply, bounce and category."
    requires_system_checks: list[str] = []  # checks may query the database; this needs none

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for name in options["files"]:
            result = parse_file(name)
            failed += "error" in result
            if options["json"]:
                self.stdout.write(json.dumps(result, ensure_ascii=False))
            else:
                self.stdout.write(summary(result))
        if failed:
            raise CommandError(
                f"{failed} of {len(options['files'])} file(s) not parsed", returncode=1
            )


def parse_file(name: str) -> dict[str, Any]:
    try:
        path = Path(name)
        if path.stat().st_size > MAX_FILE_BYTES:
            return {"file": name, "error": "file larger than 50 MB"}
        parsed = parse_raw(path.read_bytes())
    except OSError as exc:
        return {"file": name, "error": f"cannot read: {exc.strerror or exc}"}
    except UnparseableEmail as exc:
        return {"file": name, "error": f"cannot parse: {exc}"}
    found = classify_rules(parsed)
    until = parsed.out_of_office_until
    return {
        "file": name,
        "from_email": parsed.from_email,
        "subject": parsed.subject,
        "language": parsed.language,
        "visible_text": parsed.visible_text,
        "is_auto_reply": parsed.is_auto_reply,
        "out_of_office_until": until.isoformat() if until else None,
        "is_bounce": parsed.is_bounce,
        "bounced": [
            {"address": b.address, "permanent": b.permanent, "status": b.status}
            for b in parsed.bounced
        ],
        "category": found.category,
        "confidence": found.confidence,
        "reason": found.reason,
        "referral": found.referral,
        "defects": parsed.defects,
    }


def summary(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{result['file']}: ERROR {result['error']}"
    lines = [
        f"{result['file']}: {result['category']} ({result['confidence']:.2f}, {result['reason']})",
        f"  from {result['from_email'] or '?'} [{result['language'] or '?'}] "
        f"{result['subject'][:80]!r}",
    ]
    if result["is_auto_reply"]:
        lines.append(f"  auto-reply; back {result['out_of_office_until'] or 'date unknown'}")
    for bounce in result["bounced"]:
        kind = "permanent" if bounce["permanent"] else "temporary"
        lines.append(f"  bounced {bounce['address']} ({kind} {bounce['status']})")
    text = " ".join(result["visible_text"].split())
    lines.append(f"  {text[:200]}" + ("…" if len(text) > 200 else ""))
    return "\n".join(lines)
