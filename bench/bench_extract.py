"""Page extraction against the bare lxml parse of the same pages, in the same run.

    .venv/bin/python bench/bench_extract.py

The pages are bench/corpus.py's generated heavy pages (100 KB to 2 MB: inline scripts and
styles, mega-menus of links, inline SVG, JSON-LD, nested tables, comments, entities,
broken markup and unparseable links), not padded demo pages, which flattered the product.

The bare `lxml.html.fromstring` is the physical floor: libxml2 builds its tree in C and no
extractor can read a page faster than it is parsed. `extract_page` parses with lxml too,
walks the tree once, and runs its extractors over that one walk. Each of three rounds
times both over the whole corpus back to back and takes the ratio (bare time / extraction
time), so the machine's speed and load cancel out; min and median are printed.

Measured on the 2-core CI machine under load: 0.12-0.15 (the BeautifulSoup version it
replaced: 0.025-0.028 on this corpus). The limit is the goal the issue set, 0.05: more
than twice under the measured ratio, so a loaded machine passes, while a return to a
second tree or a regex tried at every position of the page fails it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import lxml.html

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import Sample, corpus
from leads.extraction import extract_page

MINIMUM_RATIO = 0.05
PAGES = 30
ROUNDS = 3


def seconds(work: Callable[[str, str], object], items: list[Sample]) -> float:
    started = time.perf_counter()
    for url, html in items:
        work(url, html)
    return time.perf_counter() - started


def main() -> int:
    items = corpus(PAGES)
    size = sum(len(html) for _, html in items)
    print(f"{len(items)} pages, {size / len(items) / 1000:.0f} kB on average, {ROUNDS} rounds")
    ratios = []
    for _ in range(ROUNDS):
        bare = seconds(lambda url, html: lxml.html.fromstring(html), items)
        ours = seconds(lambda url, html: extract_page(html, url=url), items)
        ratios.append(bare / ours)
        print(
            f"  bare lxml parse {len(items) / bare:,.1f} pages/s; "
            f"extract_page {len(items) / ours:,.1f} pages/s; ratio {bare / ours:.3f}"
        )
    low, middle = min(ratios), statistics.median(ratios)
    fast_enough = middle >= MINIMUM_RATIO
    print(
        f"extract_page vs bare lxml parse: min {low:.3f} / median {middle:.3f} "
        f"(limit: median >= {MINIMUM_RATIO}) {'ok' if fast_enough else 'TOO SLOW'}"
    )
    return 0 if fast_enough else 1


if __name__ == "__main__":
    sys.exit(main())
