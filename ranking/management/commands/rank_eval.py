"""python manage.py rank_eval --csv FILE --label COLUMN --positive VALUE [--drop COL ...]
[--rounds N --batch K] --json"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ranking.evaluation import EvalError, rank_eval, table_read


class Command(BaseCommand):
    help = "Replay the ranking's feedback loop on a table of past outreach."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--csv", required=True, help="a CSV with a header row")
        parser.add_argument("--label", required=True, help="the outcome column")
        parser.add_argument("--positive", required=True, help="the outcome value that is a win")
        parser.add_argument("--drop", nargs="*", default=[], help="columns known only after")
        parser.add_argument("--rounds", type=int, default=10)
        parser.add_argument("--batch", type=int, default=500, help="rows contacted per round")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["csv"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        try:
            result = rank_eval(
                table_read(text),
                label=options["label"],
                positive=options["positive"],
                drop=options["drop"],
                rounds=options["rounds"],
                batch=options["batch"],
                seed=options["seed"],
            )
        except EvalError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        for row in result["rounds"]:
            self.stdout.write(
                f"round {row['round']}: contacted {row['contacted']}, positives "
                f"model {row['positives_model']} / random {row['positives_random']} / "
                f"oracle {row['positives_oracle']}"
            )
        self.stdout.write(f"AUC on rows never contacted: {result['auc_uncontacted']}")
