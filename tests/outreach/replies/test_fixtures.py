"""Every fixture message parses and classifies as its entry in expected.json says.

The fixtures are written like real clients and servers write them (see make_fixtures.py).
Run with -s to see the per-kind accuracy table.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from outreach.replies.parsing import UnparseableEmail, classify_rules, parse_raw

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "expected.json").read_text())
# Measured once below and shared: parsing all fixtures takes a few seconds.
_RESULTS: dict[str, list[str]] = {}
ACCURACY_FLOOR = {
    "clients": 0.9,
    "languages": 0.85,
    "classification": 0.85,
    "auto_replies": 0.85,
    "bounces": 0.85,
    "broken": 0.9,
    "holdout": 0.7,  # partly unseen wording: see make_fixtures.py for how it was measured
}


def mismatches(name: str) -> list[str]:
    """What the parser got wrong for one fixture (empty when all is right)."""
    if name not in _RESULTS:
        _RESULTS[name] = _compare(EXPECTED[name], (FIXTURES / name).read_bytes())
    return _RESULTS[name]


def _compare(expected: dict[str, Any], raw: bytes) -> list[str]:
    try:
        parsed = parse_raw(raw)
    except UnparseableEmail as exc:
        return [] if expected.get("error") else [f"unparseable: {exc}"]
    if expected.get("error"):
        return ["parsed, but should have been refused"]
    wrong = []
    visible = parsed.visible_text
    wrong += [
        f"visible lacks {s!r}" for s in expected.get("visible_contains", []) if s not in visible
    ]
    wrong += [f"visible has {s!r}" for s in expected.get("visible_absent", []) if s in visible]
    for key in ("is_auto_reply", "is_bounce", "language", "subject", "from_name", "from_email"):
        if key in expected and getattr(parsed, key) != expected[key]:
            wrong.append(f"{key}: {getattr(parsed, key)!r} != {expected[key]!r}")
    if "out_of_office_until" in expected:
        until = parsed.out_of_office_until.isoformat() if parsed.out_of_office_until else None
        if until != expected["out_of_office_until"]:
            wrong.append(f"out_of_office_until: {until} != {expected['out_of_office_until']}")
    if "bounced" in expected:
        got = sorted((b.address, b.permanent) for b in parsed.bounced)
        want = sorted((b["address"], b["permanent"]) for b in expected["bounced"])
        if got != want:
            wrong.append(f"bounced: {got} != {want}")
    if "subject_max" in expected and len(parsed.subject) > expected["subject_max"]:
        wrong.append(f"subject is {len(parsed.subject)} characters")
    if "defect_contains" in expected and not any(
        expected["defect_contains"] in d for d in parsed.defects
    ):
        wrong.append(f"no defect mentions {expected['defect_contains']!r}: {parsed.defects}")
    wrong += _compare_classification(expected, parsed)
    return wrong


def _compare_classification(expected: dict[str, Any], parsed: Any) -> list[str]:
    if "category" not in expected:
        return []
    found = classify_rules(parsed)
    wrong = []
    if found.category != expected["category"]:
        wrong.append(f"category: {found.category} ({found.reason}) != {expected['category']}")
    for key, value in expected.get("referral", {}).items():
        if found.referral.get(key) != value:
            wrong.append(f"referral {key}: {found.referral.get(key)!r} != {value!r}")
    return wrong


def _cases() -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=expected["known_miss"]))
        if "known_miss" in expected
        else name
        for name, expected in sorted(EXPECTED.items())
    ]


@pytest.mark.parametrize("name", _cases())
def test_fixture_parses_as_expected(name: str) -> None:
    assert mismatches(name) == []


def test_accuracy_per_kind_stays_above_its_floor() -> None:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for name, expected in EXPECTED.items():
        total[expected["kind"]] += 1
        right[expected["kind"]] += not mismatches(name)
    print("\nkind             right / total")
    for kind in sorted(total):
        print(f"{kind:<16} {right[kind]:>5} / {total[kind]:<5} {right[kind] / total[kind]:6.0%}")
    print(f"{'all':<16} {sum(right.values()):>5} / {sum(total.values()):<5}")
    assert set(total) == set(ACCURACY_FLOOR)
    assert len(EXPECTED) >= 110
    for kind, floor in ACCURACY_FLOOR.items():
        assert right[kind] / total[kind] >= floor, kind
