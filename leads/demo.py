"""Offline demo data: sample company sites served on loopback, so enrichment finds real
facts without the internet, and leads at those companies."""

from __future__ import annotations

import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from sdr.models import Workspace

SITES_DIR = Path(__file__).resolve().parent / "demo_sites"

logger = logging.getLogger(__name__)
_servers: dict[int, ThreadingHTTPServer] = {}
_lock = threading.Lock()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def demo_sites() -> list[Path]:
    return sorted(p for p in SITES_DIR.iterdir() if p.is_dir() and (p / "index.html").exists())


def demo_sites_start() -> list[str]:
    """Serve each sample site at the root of its own loopback port (idempotent)."""
    urls = []
    with _lock:
        for index, site in enumerate(demo_sites()):
            port = settings.DEMO_SITES_PORT + index
            if port not in _servers:
                handler = functools.partial(_QuietHandler, directory=str(site))
                try:
                    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
                except OSError:
                    # Most likely a running `manage.py demo` serves them already.
                    logger.warning("Port %s is taken; assuming the demo sites are served.", port)
                else:
                    threading.Thread(target=server.serve_forever, daemon=True).start()
                    _servers[port] = server
            urls.append(f"http://127.0.0.1:{port}/")
    return urls


# Leads at the sample companies, as a sales team would import them.
DEMO_LEADS = {
    "northwind-robotics": [
        ("priya.nair", "Priya", "Nair", "VP Sales"),
        ("amira", "Amira", "Haddad", "CEO & Co-founder"),
    ],
    "lumen-ledger": [("marc", "Marc", "Dubois", "Chief Revenue Officer")],
    "harbor-health-analytics": [("daniel", "Daniel", "Cho", "Founder and CEO")],
}


def seed_demo_leads(*, workspace: Workspace) -> None:
    """Companies at the sample sites with their leads, researched once (idempotent)."""
    from leads.enrichment import company_enrich
    from leads.models import Company
    from leads.upsert import leads_upsert
    from sdr.fetch import Fetcher

    rows = [
        {
            "email": f"{local}@{site}.example",
            "first_name": first,
            "last_name": last,
            "title": title,
            "company_domain": f"{site}.example",
            "company_name": site.replace("-", " ").title(),
        }
        for site, people in DEMO_LEADS.items()
        for local, first, last, title in people
    ]
    leads_upsert(workspace=workspace, rows=rows, source="csv")
    companies = Company.objects.for_workspace(workspace)
    urls = dict(zip([p.name for p in demo_sites()], demo_sites_start(), strict=True))
    for site, url in urls.items():
        companies.filter(domain=f"{site}.example", website="").update(website=url)
    # Sample sites are local: no need to be polite to ourselves.
    with Fetcher(politeness_delay=0) as fetcher:
        for company in companies.filter(enrich_status=Company.EnrichStatus.NEVER):
            company_enrich(company=company, fetcher=fetcher)
