"""The leads and companies lists worked from the keyboard in a real browser (issue 14):
j and k move, x ticks, o opens, / searches, ] and [ turn the page; keys typed into a
field stay in the field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import CompanyFactory, LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def leads(workspace) -> list[Lead]:
    """Fifty-five leads, newest first in the list: "Lead 55" is its first row."""
    start = timezone.now() - timedelta(days=1)
    made = []
    for number in range(1, 56):
        lead = LeadFactory(workspace=workspace, first_name="Lead", last_name=f"{number:02d}")
        Lead.unscoped_objects.filter(pk=lead.pk).update(
            created_at=start + timedelta(minutes=number)
        )
        made.append(lead)
    return made


def test_j_k_and_x_tick_rows_and_o_opens_one(signed_in_page, leads):
    page = signed_in_page
    page.goto("/leads/")
    for key in ["j", "j", "j", "k"]:
        page.keyboard.press(key)
    current = page.locator("table[data-keys] tbody tr.current")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("Lead 54")
    page.keyboard.press("x")
    assert page.get_by_label("Select Lead 54").is_checked()
    assert not page.get_by_label("Select Lead 55").is_checked()
    page.keyboard.press("x")
    assert not page.get_by_label("Select Lead 54").is_checked()

    page.keyboard.press("o")
    page.get_by_role("heading", name="Lead 54").wait_for()
    assert page.url.endswith(f"/leads/{leads[53].pk}/")


def test_slash_goes_to_search_and_keys_typed_there_stay_there(signed_in_page, leads):
    page = signed_in_page
    page.goto("/leads/")
    page.keyboard.press("/")
    search = page.get_by_label("Search")
    expect(search).to_be_focused()
    page.keyboard.type("jox")
    expect(search).to_have_value("jox")
    expect(page.locator("tr.current")).to_have_count(0)
    assert page.url.endswith("/leads/") or "q=jox" in page.url  # never left the list


def test_brackets_turn_the_page(signed_in_page, leads):
    page = signed_in_page
    page.goto("/leads/")
    page.keyboard.press("]")
    page.get_by_test_id("page-number").filter(has_text="2").wait_for()
    expect(page.get_by_test_id("lead-table")).to_contain_text("Lead 05")
    page.keyboard.press("[")
    page.get_by_test_id("page-number").filter(has_text="1").wait_for()
    expect(page.get_by_test_id("lead-table")).to_contain_text("Lead 55")


def test_the_companies_list_has_the_same_keys(signed_in_page, workspace):
    CompanyFactory(workspace=workspace, name="Acme Robotics")
    page = signed_in_page
    page.goto("/leads/companies/")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.get_by_label("Select Acme Robotics").is_checked()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Acme Robotics").wait_for()
