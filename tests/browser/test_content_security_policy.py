"""The Content-Security-Policy in a real browser: the main pages run with it and report no
violation, a violation is caught when there is one, and the behaviour that used to be
inline handlers (confirmations, a select that submits) still works from app.js."""

from __future__ import annotations

import pytest

from leads.models import Company, Lead
from outreach.models import Campaign, Message
from tests.factories import workspace_populate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded in the page by the browser itself, before any of the page's own code runs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(signed_in_page):
    page = signed_in_page
    page.context.add_init_script(WATCH)
    page.refused = []  # console messages such as "Refused to execute inline script ..."
    page.on(
        "console",
        lambda message: (
            page.refused.append(message.text)
            if "Refused to" in message.text or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: page.refused.append(f"page error: {error}"))
    return page


def violations(page) -> list[str]:
    return [*page.evaluate("window.__violations || []"), *page.refused]


def test_the_main_pages_run_under_the_policy_without_a_violation(watched, workspace):
    rows = workspace_populate(workspace, tag="acme")
    lead, company = rows[Lead], rows[Company]
    campaign, message = rows[Campaign], rows[Message]
    pages = [
        "/",
        "/leads/",
        f"/leads/{lead.pk}/",
        "/leads/companies/",
        f"/leads/companies/{company.pk}/",
        "/leads/imports/",
        "/leads/suppressions/",
        "/campaigns/",
        f"/campaigns/{campaign.pk}/",
        "/mailboxes/",
        "/review/",
        f"/review/{message.pk}/",
        "/settings/api-keys/",
        "/api/docs/",
    ]
    found = {}
    for url in pages:
        watched.goto(url)
        watched.wait_for_load_state("networkidle")
        if violations(watched):
            found[url] = violations(watched)
            watched.refused.clear()
    assert not found, found


def test_a_violation_is_caught_when_a_page_tries_inline_script(watched):
    watched.goto("/leads/")
    watched.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
    )
    watched.wait_for_timeout(200)
    assert watched.evaluate("window.__ran === undefined")
    assert any("script-src" in v or "Refused to" in v for v in violations(watched))


def test_the_erase_confirmation_still_asks_and_a_no_keeps_the_lead(watched, workspace):
    rows = workspace_populate(workspace, tag="acme")
    lead = rows[Lead]
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    watched.on("dialog", answer)
    watched.goto(f"/leads/{lead.pk}/")
    watched.get_by_role("button", name="Erase").click()
    watched.wait_for_timeout(300)
    assert asked and asked[0].startswith("Erase ")
    assert Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()
    assert not violations(watched)


def test_the_status_filter_submits_on_change(watched, workspace):
    workspace_populate(workspace, tag="acme")
    watched.goto("/leads/companies/")
    watched.get_by_label("Research status").select_option(index=1)
    watched.wait_for_url("**/leads/companies/?*status=*")
    assert not violations(watched)


def test_the_admin_pages_run_under_the_policy_without_a_violation(watched, member, workspace):
    """The admin's own templates set a few `style` attributes (change-list columns, the
    action counter); an admin page must work under the policy as the product's pages do."""
    member.is_staff = member.is_superuser = True
    member.save(update_fields=["is_staff", "is_superuser"])
    rows = workspace_populate(workspace, tag="acme")
    pages = [
        "/admin/",
        "/admin/leads/lead/",
        f"/admin/leads/lead/{rows[Lead].pk}/change/",
        "/admin/outreach/campaign/",
        f"/admin/outreach/message/{rows[Message].pk}/change/",
    ]
    found = {}
    for url in pages:
        watched.goto(url)
        watched.wait_for_load_state("networkidle")
        if violations(watched):
            found[url] = violations(watched)
            watched.refused.clear()
    assert not found, found
