"""`rank_eval` on a 3,000-row slice of the bank marketing table (tests/ranking/data)."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

SAMPLE = Path(__file__).parent / "data" / "bank_sample.csv"


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("rank_eval", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_loop_finds_clearly_more_positives_than_random_after_the_first_round():
    result = _run(
        "--csv", str(SAMPLE), "--label", "y", "--positive", "yes",
        "--drop", "duration", "--rounds", "4", "--batch", "200",
    )  # fmt: skip
    rounds = result["rounds"]
    assert [r["round"] for r in rounds] == [1, 2, 3, 4]
    assert [r["contacted"] for r in rounds] == [200, 400, 600, 800]
    for row in rounds:
        assert set(row) == {
            "round",
            "contacted",
            "positives_model",
            "positives_random",
            "positives_oracle",
        }
        assert row["positives_oracle"] >= row["positives_random"]
    # Cumulative: never fewer than the round before.
    assert all(a["positives_model"] <= b["positives_model"] for a, b in itertools.pairwise(rounds))
    for row in rounds[1:]:
        assert row["positives_model"] >= 1.3 * row["positives_random"], row
    assert 0.5 < result["auc_uncontacted"] <= 1.0


def test_results_repeat_with_the_same_seed():
    args = ["--csv", str(SAMPLE), "--label", "y", "--positive", "yes", "--rounds", "2"]
    assert _run(*args) == _run(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "outcome", "--positive", "yes"], "No column 'outcome'"),
        (["--label", "y", "--positive", "maybe"], "must match some rows"),
        (["--label", "y", "--positive", "yes", "--drop", "nope"], "unknown columns: nope"),
        (["--label", "y", "--positive", "yes", "--batch", "0"], "at least 1"),
    ],
)
def test_bad_options_say_what_is_wrong(args, message):
    with pytest.raises(CommandError, match=message):
        _run("--csv", str(SAMPLE), *args)


def test_unreadable_or_empty_files_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="no header or no rows"):
        _run("--csv", str(empty), "--label", "y", "--positive", "yes")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(CommandError, match="Cannot read"):
        _run("--csv", str(binary), "--label", "y", "--positive", "yes")
    with pytest.raises(CommandError, match="Cannot read"):
        _run("--csv", str(tmp_path / "missing.csv"), "--label", "y", "--positive", "yes")


def test_a_comma_separated_table_with_text_and_numbers_works(tmp_path):
    rows = ["industry,employees,replied"]
    rows += [f"fintech,{10 + i},yes" if i % 3 == 0 else f"retail,{i},no" for i in range(300)]
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows))
    result = _run(
        "--csv", str(path), "--label", "replied", "--positive", "yes", "--rounds", "3",
        "--batch", "50",
    )  # fmt: skip
    assert result["rounds"][-1]["positives_model"] == 100  # every fintech row found
