"""What the extractor produced on every test page before it moved from BeautifulSoup to
lxml, so the rewrite can be checked to change nothing.

    .venv/bin/python -m tests.leads.extraction_golden   # rewrite the recording

The pages: the fixtures in tests/sites, the demo sites, and the generated heavy corpus
(bench/corpus.py). Only re-record on purpose, and say why in the change.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.corpus import corpus  # noqa: E402
from leads.extraction import PageExtraction, extract_page  # noqa: E402

RECORDING = Path(__file__).resolve().parent / "data" / "extraction_golden.json.gz"
CORPUS_PAGES = 30


def pages() -> list[tuple[str, str]]:
    """(url, html) for every recorded page, in a stable order."""
    out = []
    fixtures = ROOT / "tests" / "sites"
    for path in sorted(fixtures.glob("*.html")):
        out.append((f"https://{path.stem}.example/{path.name}", path.read_text(errors="replace")))
    sites = ROOT / "leads" / "demo_sites"
    for path in sorted(sites.rglob("*.html")):
        site = path.relative_to(sites).parts[0]
        relative = path.relative_to(sites / site).as_posix()
        out.append((f"https://{site}.example/{relative}", path.read_text()))
    return out + corpus(CORPUS_PAGES)


def snapshot(extraction: PageExtraction) -> dict:
    """The extraction as plain JSON (dates and amounts as strings)."""
    return json.loads(json.dumps(dataclasses.asdict(extraction), default=str))


def record() -> dict[str, dict]:
    return {url: snapshot(extract_page(html, url=url)) for url, html in pages()}


def recorded() -> dict[str, dict]:
    with gzip.open(RECORDING, "rt") as file:
        return json.load(file)


if __name__ == "__main__":
    result = record()
    with gzip.open(RECORDING, "wt") as file:
        json.dump(result, file, indent=1, sort_keys=True)
    print(f"recorded {len(result)} pages to {RECORDING}")
