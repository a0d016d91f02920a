"""A large CSV upload shows how far it got, then opens the import; a refused file says why
without leaving the page (issue 14: a 20 MB upload showed nothing for over a minute)."""

from __future__ import annotations

import pytest

from leads.models import ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def slow_upload(page, bytes_per_second: int) -> None:
    """Chromium's own network throttling, so the upload takes seconds on loopback."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": bytes_per_second,
        },
    )


def test_a_large_upload_shows_its_progress_then_opens_the_import(
    signed_in_page, workspace, tmp_path
):
    page = signed_in_page
    file = tmp_path / "leads.csv"
    rows = "".join(f"p{n}@acme.example,Person {n},{'note ' * 40}\n" for n in range(12_000))
    file.write_text("Email,Name,Notes\n" + rows)  # about 2.6 MB
    page.goto("/leads/imports/")
    page.set_input_files("input[type=file]", str(file))
    slow_upload(page, bytes_per_second=1_000_000)

    page.get_by_role("button", name="Upload").click()

    # Part of the way: the bar has moved and says how far, the button waits.
    page.wait_for_function(
        "() => { const bar = document.querySelector('progress[data-upload]');"
        " return !bar.hidden && bar.value > 0 && bar.value < bar.max; }"
    )
    assert page.get_by_role("status").inner_text().startswith("Uploading: ")
    assert page.get_by_role("button", name="Upload").is_disabled()
    page.wait_for_url("**/leads/imports/*/")
    job = ImportJob.objects.for_workspace(workspace).get()
    assert page.url.endswith(f"/leads/imports/{job.pk}/") and job.total_rows == 12_000
    page.get_by_role("button", name="Start import").wait_for()


def test_a_refused_file_says_why_and_the_form_stays_usable(signed_in_page, workspace, tmp_path):
    page = signed_in_page
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    page.goto("/leads/imports/")
    page.set_input_files("input[type=file]", str(empty))
    page.get_by_role("button", name="Upload").click()

    alert = page.get_by_role("alert")
    alert.filter(has_text="The file is empty").wait_for()
    assert page.url.endswith("/leads/imports/")
    assert page.get_by_role("button", name="Upload").is_enabled()
    assert not ImportJob.objects.for_workspace(workspace).exists()
