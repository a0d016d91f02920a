"""`manage.py extract_company`: what the extractors get from one page, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

SITES = Path(__file__).resolve().parents[2] / "leads" / "demo_sites"


def run(capsys, *args) -> dict:
    call_command("extract_company", *args, "--json")
    return json.loads(capsys.readouterr().out)


def test_a_saved_page_is_extracted_with_evidence(capsys):
    result = run(
        capsys,
        str(SITES / "northwind-robotics" / "index.html"),
        "--base-url",
        "https://northwind-robotics.example/",
    )
    assert result["name"]["value"] == "Northwind Robotics"
    assert result["name"]["extractor"] == "jsonld" and result["name"]["evidence"]
    assert {s["value"]["network"] for s in result["socials"]} >= {"linkedin", "twitter"}
    assert {t["value"] for t in result["tech"]} >= {"HubSpot", "Google Analytics"}
    assert result["links"]["press"][0].startswith("https://northwind-robotics.example/")
    assert set(result) >= {"description", "emails", "phones", "signals", "people", "values"}


def test_people_and_signals_come_with_the_page(capsys):
    team = run(
        capsys,
        str(SITES / "northwind-robotics" / "team.html"),
        "--base-url",
        "https://northwind-robotics.example/team.html",
    )
    assert {"name": "Priya Nair", "title": "VP Sales"}.items() <= team["people"][2].items()
    press = run(
        capsys,
        str(SITES / "northwind-robotics" / "press.html"),
        "--base-url",
        "https://northwind-robotics.example/press.html",
    )
    funding = next(s for s in press["signals"] if s["kind"] == "funding")
    assert funding["amount"] == "12000000" and funding["happened_on"] == "2026-10-14"


def test_a_url_is_fetched_through_the_safe_fetcher(capsys, http_server, settings):
    settings.FETCH_POLITENESS_DELAY = 0
    http_server.serve_directory("/", SITES / "lumen-ledger")
    result = run(capsys, http_server.url("/"))
    assert result["name"]["value"] == "Lumen Ledger"
    assert "/robots.txt" in http_server.paths()


def test_a_refused_fetch_exits_with_the_reason(http_server, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(CommandError, match="not a public address"):
        call_command("extract_company", http_server.url("/"), "--json")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.html", "No such file"),
        (lambda tmp: tmp, "is a directory"),
        (lambda tmp: _binary(tmp), "not a text page"),
    ],
)
def test_bad_files_exit_with_a_clear_error(tmp_path, make, message):
    with pytest.raises(CommandError, match=message):
        call_command("extract_company", str(make(tmp_path)), "--json")


def _binary(tmp: Path) -> Path:
    path = tmp / "logo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return path
