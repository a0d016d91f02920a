"""Every page a seller works in fits the window from a small phone (360 px) to a wide screen
(1440 px): nothing makes the page scroll sideways (issue 14). The workspace is filled
with long unbroken values (a 60-character company name in the domain, the URLs, the
emails), the usual way a table is pushed wider than the screen. A wide table may scroll
inside its own box; the page may not."""

from __future__ import annotations

import pytest

from leads.models import Company, ImportJob, Lead
from outreach.models import Campaign, Mailbox, Message, Reply
from tests.factories import workspace_populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "northwindroboticsandwarehouseautomationholdingsinternational"


@pytest.fixture
def pages(workspace) -> list[str]:
    rows = workspace_populate(workspace, tag=LONG, member=False, api_key=False)
    return [
        "/",
        "/leads/",
        f"/leads/{rows[Lead].pk}/",
        f"/leads/{rows[Lead].pk}/edit/",
        "/leads/companies/",
        f"/leads/companies/{rows[Company].pk}/",
        "/leads/imports/",
        f"/leads/imports/{rows[ImportJob].pk}/",
        "/leads/suppressions/",
        "/leads/coverage/",
        "/campaigns/",
        f"/campaigns/{rows[Campaign].pk}/",
        f"/campaigns/{rows[Campaign].pk}/preview/",
        "/mailboxes/",
        f"/mailboxes/{rows[Mailbox].pk}/",
        "/review/",
        f"/review/{rows[Message].pk}/",
        "/replies/",
        f"/replies/{rows[Reply].pk}/",
        "/ranking/profile/",
        "/billing/",
        "/settings/",
        "/settings/workspace/",
        "/settings/members/",
        "/settings/api-keys/",
    ]


# The elements that reach past the window, innermost first: what to fix when it fails.
WIDEST = """
[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right >
                                      document.documentElement.clientWidth + 1))
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ': '
            + (e.textContent || '').trim().slice(0, 40))
"""


@pytest.mark.parametrize("width", [360, 1440])
def test_no_page_scrolls_sideways(signed_in_page, pages, width):
    page = signed_in_page
    page.set_viewport_size({"width": width, "height": 900})
    too_wide = {}
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            too_wide[url] = (overflow, page.evaluate(WIDEST))
    assert not too_wide, f"Pages wider than {width} px (by so many px): {too_wide}"
