"""The sales team's main paths in a real browser: import, research, campaign, review."""

from __future__ import annotations

import pytest

from leads.models import Lead, Suppression
from outreach.models import Enrollment, Message, MessageFeedback
from tests.factories import CompanyFactory, FactFactory, LeadFactory, MessageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Email,First Name,Last Name,Job Title,Company\n"
    "dana@northwind.example,Dana,Okafor,VP of Sales,Northwind\n"
    "broken-address,Bad,Row,CEO,Nope\n"
)


def test_a_csv_is_uploaded_mapped_and_imported_with_progress(signed_in_page, workspace, tmp_path):
    page = signed_in_page
    file = tmp_path / "leads.csv"
    file.write_text(CSV)
    page.goto("/leads/imports/")
    page.set_input_files("input[type=file]", str(file))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("heading", name="Map the columns of leads.csv").wait_for()
    assert page.get_by_label("Field for Job Title").input_value() == "title"
    page.get_by_role("button", name="Start import").click()
    page.get_by_test_id("import-status").filter(has_text="Done").wait_for()
    assert "1 new" in page.locator("#import-progress").inner_text()
    assert page.get_by_test_id("rejected-link").inner_text() == "Download rejected rows (1)"
    assert Lead.objects.for_workspace(workspace).get().email == "dana@northwind.example"


def test_leads_are_searched_and_a_company_shows_its_sources(signed_in_page, workspace):
    company = CompanyFactory(
        workspace=workspace, name="Northwind Robotics", domain="northwind.example"
    )
    FactFactory(
        workspace=workspace,
        company=company,
        field="industry",
        value="Robotics",
        source_url="https://northwind.example/about",
        extractor="structured",
    )
    LeadFactory(workspace=workspace, company=company, first_name="Dana", last_name="Okafor")
    LeadFactory(workspace=workspace, first_name="Robin", last_name="Reyes")
    page = signed_in_page
    page.goto("/leads/")
    page.get_by_label("Search").fill("okafor")
    page.get_by_test_id("lead-table").filter(has_not_text="Reyes").wait_for()
    page.get_by_role("link", name="Northwind Robotics").click()
    facts = page.locator("table.facts").inner_text()
    assert "Robotics" in facts and "structured data" in facts
    assert page.get_by_role("link", name="https://northwind.example/about").count() == 1
    assert page.get_by_test_id("enrich-status").inner_text() == "Never enriched"


def test_a_campaign_is_built_in_the_ui_and_leads_enrolled(signed_in_page, workspace):
    LeadFactory(workspace=workspace)
    page = signed_in_page
    page.goto("/campaigns/new/")
    page.locator("#id_name").fill("Warehouse leaders")
    page.locator("#id_product").fill("Pick-to-light carts")
    page.locator("#id_call_to_action").fill("Worth a short call?")
    page.get_by_role("button", name="Save campaign").click()
    page.get_by_role("heading", name="Warehouse leaders").wait_for()
    page.get_by_role("button", name="Enroll and draft").click()
    page.get_by_text("Enrolled 1 leads").wait_for()
    assert Message.objects.for_workspace(workspace).get().status in {"pending_review", "held"}


def test_a_reviewer_approves_with_the_keyboard_and_rejects_with_a_reason(signed_in_page, workspace):
    first = MessageFactory(workspace=workspace, subject="First draft")
    second = MessageFactory(workspace=workspace, subject="Second draft")
    page = signed_in_page
    page.goto("/review/")
    subject = page.locator("#draft-subject").input_value()
    page.keyboard.press("a")
    page.get_by_text("Approved.").wait_for()
    approved = first if subject == "First draft" else second
    other = second if approved is first else first
    approved.refresh_from_db()
    assert approved.status == Message.Status.APPROVED

    page.keyboard.press("r")
    page.keyboard.type("Too generic")
    page.get_by_role("button", name="Reject").click()
    page.get_by_text("Rejected").first.wait_for()
    other.refresh_from_db()
    assert other.status == Message.Status.REJECTED
    assert MessageFeedback.objects.for_workspace(workspace).get(kind="rejected").reason == (
        "Too generic"
    )


def test_an_edit_is_saved_as_feedback(signed_in_page, workspace):
    message = MessageFactory(workspace=workspace)
    page = signed_in_page
    page.goto(f"/review/{message.pk}/")
    page.keyboard.press("e")
    page.locator("#draft-body").fill("Hi Dana, a shorter note. Worth a call?")
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Approved.").wait_for()
    feedback = MessageFeedback.objects.for_workspace(workspace).get()
    assert feedback.kind == "edited"
    assert feedback.body_after == "Hi Dana, a shorter note. Worth a call?"


def test_leads_ticked_on_the_list_are_added_to_a_campaign_and_one_suppressed(
    signed_in_page, workspace
):
    from tests.factories import CampaignFactory, SequenceStepFactory

    campaign = CampaignFactory(workspace=workspace, name="Q1 warehouses")
    SequenceStepFactory(workspace=workspace, campaign=campaign, order=1, kind="first_touch")
    leads = [LeadFactory(workspace=workspace, last_name=f"Okafor{n}") for n in range(3)]
    page = signed_in_page
    page.goto("/leads/")
    page.get_by_label("Select every lead on this page").check()
    assert page.locator("input[name=lead]:checked").count() == 3
    page.get_by_label(f"Select Dana {leads[0].last_name}").uncheck()
    page.get_by_label("Campaign to add them to").select_option(label="Q1 warehouses")
    page.get_by_role("button", name="Add to campaign").click()
    page.get_by_text("Added 2 leads to the campaign").wait_for()
    enrolled = set(Enrollment.objects.for_workspace(workspace).values_list("lead_id", flat=True))
    assert enrolled == {leads[1].pk, leads[2].pk}

    # Suppress asks first; dismissing the question suppresses nothing.
    page.get_by_label(f"Select Dana {leads[0].last_name}").check()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Suppress").click()
    assert not Suppression.objects.for_workspace(workspace).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Suppress").click()
    page.get_by_text("Suppressed 1 lead.").wait_for()
    assert Suppression.objects.for_workspace(workspace).get().value == leads[0].email
