"""`manage.py parse_email`: one JSON line per file, errors in line, no database needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).parent / "fixtures"
CONTRACT = {
    "file",
    "visible_text",
    "is_auto_reply",
    "out_of_office_until",
    "is_bounce",
    "bounced",
    "category",
    "confidence",
}


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_the_contract_fields() -> None:
    out = StringIO()
    files = [FIXTURES / "auto_replies/fr.eml", FIXTURES / "bounces/postfix_two_recipients.eml"]
    call_command("parse_email", *map(str, files), "--json", stdout=out)
    ooo, bounce = _json_lines(out.getvalue())
    assert set(ooo) >= CONTRACT
    assert set(bounce) >= CONTRACT
    assert ooo["file"] == str(files[0])
    assert (ooo["category"], ooo["is_auto_reply"], ooo["out_of_office_until"]) == (
        "auto_reply",
        True,
        "2027-01-05",
    )
    assert bounce["is_bounce"] is True
    assert [(b["address"], b["permanent"]) for b in bounce["bounced"]] == [
        ("one@acme.com", True),
        ("two@acme.com", False),
    ]
    assert 0 <= bounce["confidence"] <= 1


def test_an_unreadable_file_gets_an_error_line_and_the_others_still_print(tmp_path: Path) -> None:
    missing = tmp_path / "missing.eml"
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"")
    good = FIXTURES / "classification/talk_tuesday.eml"
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("parse_email", str(missing), str(good), str(garbage), "--json", stdout=out)
    assert raised.value.returncode == 1
    first, second, third = _json_lines(out.getvalue())
    assert first == {"file": str(missing), "error": first["error"]}
    assert "cannot read" in first["error"]
    assert second["category"] == "meeting_request"
    assert "cannot parse" in third["error"]


def test_the_human_summary_names_category_and_visible_text() -> None:
    out = StringIO()
    call_command("parse_email", str(FIXTURES / "clients/outlook_not_now.eml"), stdout=out)
    assert "not_now" in out.getvalue()
    assert "try again in Q3" in out.getvalue()


def test_it_runs_with_no_database_at_all() -> None:
    # Port 1 on loopback has nothing listening: any database access would fail the run.
    env = {**os.environ, "DATABASE_URL": "postgres://nouser@127.0.0.1:1/x"}
    done = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [
            sys.executable,
            "manage.py",
            "parse_email",
            "--json",
            str(FIXTURES / "bounces/exim_hard.eml"),
        ],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = _json_lines(done.stdout)
    assert line["bounced"] == [{"address": "gone@acme.com", "permanent": True, "status": "5.1.1"}]
