"""Take the README tour's screenshots from a running demo, with Debian's Chromium.

    make demo            # in one shell (or `manage.py demo --addrport 127.0.0.1:8000`)
    .venv/bin/python docs/tour/capture.py http://127.0.0.1:8000

Each page is shown as a seller sees it after signing in; the images are written next to
this file. Nothing here runs in CI: the pictures are documentation, and the browser tests
check the pages themselves.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SHOTS = [
    ("dashboard", "/"),
    ("leads", "/leads/?sort=-score"),
    ("lead", None),  # the first lead of the list above
    ("review", "/review/"),
    ("replies", "/replies/"),
]


def sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "demo@example.com")
    page.fill("input[name=password]", "demo-password")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def main(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base)
        first_lead = ""
        for name, path in SHOTS:
            page.goto(f"{base}{path or first_lead}")
            page.wait_for_load_state("networkidle")
            if name == "leads":
                first_lead = (
                    page.locator("[data-testid=lead-table] tbody a").first.get_attribute("href")
                    or "/leads/"
                )
            page.screenshot(path=str(HERE / f"{name}.png"))
            print(f"{name}: {page.url}")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
