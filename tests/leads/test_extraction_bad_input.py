"""Extraction never crashes and never hangs: broken markup, hostile JSON-LD, huge and
deep pages, legacy encodings; and whatever it returns is well-formed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from bs4.dammit import UnicodeDammit

from leads.extraction import extract_page

ROOT = Path(__file__).resolve().parents[2]
SITES = ROOT / "leads" / "demo_sites"
FIXTURES = ROOT / "tests" / "sites"
FIELDS = {
    "name", "description", "industry", "location", "country", "phone", "email", "social",
    "tech", "employee_count", "founded", "logo", "open_roles_count", "open_role", "address",
}  # fmt: skip


def values(result, field_name):
    return [v.value for v in result.values if v.field == field_name]


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "not html at all",
        "<html><body><div><table><tr><td>unclosed",
        "<<<>>><!-- -->",
        "\x00\x01 binary junk \ufffd",
        "<html>" + "<div>" * 3000 + "deep" + "</div>" * 10,
        "<table>" * 500 + "<tr><td>nested tables",
        '<script type="application/ld+json">[[[[{"@type": "Organization"}]]]]</script>',
        '<script type="application/ld+json">{"@type": null, "@graph": "x"}</script>',
        '<div itemscope itemtype="https://schema.org/Organization"><span itemprop="name">',
        '<a href="http://[broken">x</a><a href="mailto:">y</a><a href="tel:">z</a>',
        '<![CDATA[<script type="application/ld+json"><!--<span itemscope itemtype="x">',  # no tree
        '<script type="application/ld+json">' + "[" * 100_000 + "</script>",
    ],
)
def test_broken_markup_never_crashes(html):
    result = extract_page(html, url="https://broken.example/")
    assert result.page_kind == "home"
    json.dumps([v.value for v in result.values])


def test_a_badly_broken_real_world_page_still_gives_its_facts():
    html = (FIXTURES / "broken.html").read_text()
    result = extract_page(html, url="https://brokenfield.example/")
    assert values(result, "name") == ["Brokenfield Tools"]
    assert "torque wrenches" in values(result, "description")[0]
    assert values(result, "email") == ["sales@brokenfield.example"]
    assert values(result, "phone") == ["+14155550133"]
    assert result.links["careers"] == ["https://brokenfield.example/jobs/"]


def test_a_huge_page_finishes_quickly_and_keeps_its_head_and_footer():
    row = "<div class='row'><span>filler text about nothing</span></div>"
    html = (
        "<html><head><title>Big Co</title><meta name='description' content='We are big.'>"
        "</head><body>" + row * 90_000 + "<a href='mailto:sales@big.example'>mail</a></body></html>"
    )
    assert len(html) > 5_000_000
    started = time.perf_counter()
    result = extract_page(html, url="https://big.example/")
    assert time.perf_counter() - started < 5  # about 1 s here; the untrimmed parse alone is 2.5 s
    assert values(result, "description") == ["We are big."]
    assert values(result, "email") == ["sales@big.example"]
    assert any(w.startswith("truncated") for w in result.warnings)


@pytest.mark.parametrize(
    ("fixture", "name", "email"),
    [
        ("cp1252.html", "Café Société", "bonjour@cafe-societe.example"),
        ("shift_jis.html", "株式会社サクラ精機", "info@sakura-seiki.example"),
    ],
)
def test_pages_in_legacy_encodings_keep_their_text(fixture, name, email):
    raw = (FIXTURES / fixture).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is in its legacy encoding
    html = UnicodeDammit(raw, is_html=True).unicode_markup
    result = extract_page(html, url="https://legacy.example/")
    assert values(result, "name") == [name]
    assert values(result, "email") == [email]


def test_every_value_is_json_ready_with_short_evidence_and_a_confidence():
    pages = [p for site in SITES.iterdir() if site.is_dir() for p in site.rglob("*.html")]
    pages += list(FIXTURES.glob("*.html"))
    for path in pages:
        html = UnicodeDammit(path.read_bytes(), is_html=True).unicode_markup
        result = extract_page(html, url=f"https://{path.parent.name}.example/{path.name}")
        for value in result.values:
            assert value.field in FIELDS
            assert 0 < len(value.evidence) <= 300, (path, value)
            assert 0 <= value.confidence <= 1
            assert value.source_kind in {"structured", "website"}
            json.dumps(value.value)
        for signal in result.signals:
            assert len(signal.evidence) <= 300 and 0 <= signal.confidence <= 1


def test_json_ld_nested_too_deeply_is_skipped_with_a_warning():
    html = '<script type="application/ld+json">' + "[" * 100_000 + "</script><title>Deep</title>"
    result = extract_page(html, url="https://deep.example/")
    assert "skipped a JSON-LD block nested too deeply to read" in result.warnings
    assert values(result, "name") == ["Deep"]


def test_a_directory_of_thousands_of_people_finishes_quickly():
    cards = "".join(
        f"<div><h3>Jane Doe{chr(65 + i % 26)}x</h3><p>Engineer</p></div>" for i in range(5000)
    )
    started = time.perf_counter()
    result = extract_page(f"<body>{cards}</body>", url="https://big.example/team")
    assert time.perf_counter() - started < 3  # about 0.15 s here
    assert 0 < len(result.people) <= 50
