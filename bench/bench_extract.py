"""Pages extracted per second, against the bare lxml parse of the same pages.

The bare lxml parse is the floor no extractor can beat. Ours builds a BeautifulSoup tree
over lxml (the product's chosen API), which alone costs about fifty bare parses, then runs
nine extractors over it. Two ratios, both measured in this run: against the bare parse
(the physical floor), and against the BeautifulSoup parse alone, which shows what the
extractors add: an extractor that rescans the page many times over fails the second.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdr.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

import lxml.html  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402

from bench._setup import report  # noqa: E402
from leads.extraction import extract_page  # noqa: E402

SITES = Path(__file__).resolve().parent.parent / "leads" / "demo_sites"
MINIMUM_RATIO = 0.004  # the soup tree alone is ~0.02 of a bare parse
MINIMUM_RATIO_OVER_SOUP = 0.12  # nine extractors together cost at most ~7 soup parses
ROUNDS = 3


def pages() -> list[tuple[str, str]]:
    base = [
        (f"https://{p.parent.name}.example/{p.name}", p.read_text())
        for p in sorted(SITES.rglob("*.html"))
    ]
    # Variants the size of real marketing pages: the sample pages padded with sections.
    filler = "".join(
        f"<section><h2>Feature {i}</h2><p>{'Words about the product. ' * 30}</p>"
        f"<a href='/blog/post-{i}.html'>Read more</a></section>"
        for i in range(40)
    )
    variants = [(url, html.replace("</body>", filler + "</body>")) for url, html in base]
    return (base + variants) * 6


def rate(work, items) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for url, html in items:
            work(url, html)
        best = min(best, time.perf_counter() - started)
    return len(items) / best


def main() -> int:
    items = pages()
    raw = rate(lambda url, html: lxml.html.fromstring(html), items)
    soup = rate(lambda url, html: BeautifulSoup(html, "lxml"), items)
    ours = rate(lambda url, html: extract_page(html, url=url), items)
    name = f"extract_page ({len(items)} pages)"
    failed = report(name, ours, raw, "pages/s", MINIMUM_RATIO, "bare lxml parse")
    failed |= report(
        name, ours, soup, "pages/s", MINIMUM_RATIO_OVER_SOUP, "BeautifulSoup(lxml) parse alone"
    )
    return failed


if __name__ == "__main__":
    sys.exit(main())
