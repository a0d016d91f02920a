"""`manage.py extract_company`: what the extractors get from one page, from a saved file or
through the safe fetcher, as JSON or as a short summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
SITES = ROOT / "leads" / "demo_sites"
FIXTURES = ROOT / "tests" / "sites"
KEYS = {
    "url",
    "page_kind",
    "name",
    "description",
    "socials",
    "emails",
    "phones",
    "tech",
    "signals",
    "people",
    "open_roles",
    "links",
    "warnings",
    "values",
}


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
    assert set(result) >= KEYS
    assert result["url"] == "https://northwind-robotics.example/"
    assert result["page_kind"] == "home"
    assert result["name"]["value"] == "Northwind Robotics"
    assert result["name"]["extractor"] == "jsonld" and result["name"]["evidence"]
    assert {s["value"]["network"] for s in result["socials"]} >= {"linkedin", "twitter"}
    assert {t["value"] for t in result["tech"]} >= {"HubSpot", "Google Analytics"}
    assert result["links"]["press"] == [
        "https://northwind-robotics.example/press.html",
        "https://northwind-robotics.example/press/series-a.html",
    ]
    for value in result["values"]:
        assert set(value) == {
            "field",
            "value",
            "evidence",
            "confidence",
            "extractor",
            "source_kind",
        }


def test_without_a_base_url_a_file_is_its_own_url(capsys):
    path = SITES / "lumen-ledger" / "about" / "index.html"
    result = run(capsys, str(path))
    assert result["url"] == path.resolve().as_uri()
    assert [e["value"] for e in result["emails"]] == ["hello@lumen-ledger.example"]


def test_people_roles_and_signals_come_with_the_page(capsys):
    team = run(
        capsys,
        str(SITES / "northwind-robotics" / "team.html"),
        "--base-url",
        "https://northwind-robotics.example/team.html",
    )
    assert {"name": "Priya Nair", "title": "VP Sales"}.items() <= team["people"][2].items()
    careers = run(
        capsys,
        str(SITES / "northwind-robotics" / "careers.html"),
        "--base-url",
        "https://northwind-robotics.example/careers.html",
    )
    assert len(careers["open_roles"]) == 6
    assert any("instruction-like" in w for w in careers["warnings"])
    press = run(
        capsys,
        str(SITES / "northwind-robotics" / "press.html"),
        "--base-url",
        "https://northwind-robotics.example/press.html",
    )
    funding = next(s for s in press["signals"] if s["kind"] == "funding")
    assert funding["amount"] == "12000000" and funding["happened_on"] == "2026-10-14"


def test_a_page_in_a_legacy_encoding_is_decoded_from_its_declaration(capsys):
    result = run(capsys, str(FIXTURES / "cp1252.html"), "--base-url", "https://cafe.example/")
    assert result["name"]["value"] == "Café Société"
    assert "« le goût d’abord »" in result["description"]["value"]


def test_a_utf16_page_with_a_byte_order_mark_is_text_not_binary(capsys, tmp_path):
    path = tmp_path / "utf16.html"
    path.write_bytes("<title>Zürich Zwei | Zürich Zwei</title>".encode("utf-16"))
    result = run(capsys, str(path), "--base-url", "https://zurich-zwei.example/")
    assert result["name"]["value"] == "Zürich Zwei"


def test_without_json_it_prints_a_short_summary(capsys):
    call_command(
        "extract_company",
        str(SITES / "northwind-robotics" / "careers.html"),
        "--base-url",
        "https://northwind-robotics.example/careers.html",
    )
    out = capsys.readouterr().out
    assert out.startswith("https://northwind-robotics.example/careers.html (careers page)")
    assert "open role: Sales Development Representative (sales)" in out
    assert "signal hiring on 2026-11-02: Hiring for 6 open roles, including 2 in sales" in out


def test_a_url_is_fetched_through_the_safe_fetcher(capsys, http_server, settings):
    settings.FETCH_POLITENESS_DELAY = 0
    http_server.serve_directory("/", SITES / "lumen-ledger")
    result = run(capsys, http_server.url("/"))
    assert result["url"] == http_server.url("/")
    assert result["name"]["value"] == "Lumen Ledger"
    assert result["links"]["team"] == [http_server.url("/people.html")]
    assert "/robots.txt" in http_server.paths()


def test_a_refused_fetch_exits_with_the_reason(http_server, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    with pytest.raises(CommandError, match="not a public address"):
        call_command("extract_company", http_server.url("/"), "--json")


def test_a_missing_page_exits_with_the_status(http_server, settings):
    settings.FETCH_POLITENESS_DELAY = 0
    with pytest.raises(CommandError, match=r"Could not fetch .*/gone\.html: .*404"):
        call_command("extract_company", http_server.url("/gone.html"), "--json")


def _binary(tmp: Path) -> Path:
    path = tmp / "logo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return path


def _unreadable(tmp: Path, monkeypatch) -> Path:
    path = tmp / "locked.html"
    path.write_text("<title>x</title>")

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    # The suite runs as root, for whom chmod 000 does not stop a read.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp, mp: tmp / "missing.html", "No such file"),
        (lambda tmp, mp: tmp, "is a directory"),
        (lambda tmp, mp: _binary(tmp), "not a text page"),
        (_unreadable, "Cannot read .*locked.html: Permission denied"),
    ],
)
def test_bad_files_exit_with_a_clear_error(tmp_path, monkeypatch, make, message):
    with pytest.raises(CommandError, match=message):
        call_command("extract_company", str(make(tmp_path, monkeypatch)), "--json")
