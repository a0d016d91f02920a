"""CSV import and bulk upsert: every good row saved, every bad row reported with its reason."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.importing import import_job_create, import_job_run, import_job_start, mapping_guess
from leads.models import Company, ImportJob, ImportRowError, Lead
from leads.upsert import leads_upsert
from sdr.errors import AppError
from tests.factories import LeadFactory


def upload(content: str | bytes, name: str = "leads.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def run_import(workspace, content, mapping=None):
    job = import_job_create(workspace=workspace, uploaded_file=upload(content), user=None)
    job = import_job_start(job=job, mapping=mapping)
    import_job_run(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def leads_of(workspace):
    return Lead.objects.for_workspace(workspace)


CSV = """Email,First Name,Last Name,Job Title,Company,Website,Favourite colour
dana@northwind.example,Dana,Okafor,VP of Sales,Northwind,https://www.northwind.example,blue
robin@gmail.com,Robin,Reyes,Founder,Robin Co,,green
not-an-email,Bad,Row,CEO,Nope,,red
sam@northwind.example,Sam,Lee,SDR,Northwind,,
"""


def test_a_csv_is_imported_and_bad_rows_are_reported_by_line(workspace):
    job = run_import(workspace, CSV)

    assert job.status == ImportJob.Status.DONE
    assert (job.total_rows, job.done_rows, job.created_count, job.error_count) == (4, 4, 3, 1)
    error = ImportRowError.objects.for_workspace(workspace).get()
    assert error.line == 4
    assert "not a valid email" in error.reason
    assert error.raw["Email"] == "not-an-email"
    dana = leads_of(workspace).get(email="dana@northwind.example")
    assert (dana.seniority, dana.department) == ("vp", "sales")
    assert dana.custom_fields == {"Favourite colour": "blue"}
    assert dana.source == Lead.Source.CSV


def test_the_same_domain_is_one_company_and_free_mail_is_none(workspace):
    run_import(workspace, CSV)
    companies = Company.objects.for_workspace(workspace)
    assert list(companies.values_list("domain", flat=True)) == ["northwind.example"]
    assert companies.get().name == "Northwind"
    assert leads_of(workspace).get(email="robin@gmail.com").company is None
    assert companies.get().enrich_status == Company.EnrichStatus.QUEUED


def test_the_mapping_is_guessed_from_common_header_spellings():
    guess = mapping_guess(
        [
            "E-mail",
            "fname",
            "Surname",
            "Position",
            "Organisation",
            "Company Website",
            "LinkedIn URL",
            "CRM ID",
            "Time Zone",
            "Notes",
        ]
    )
    assert guess == {
        "E-mail": "email",
        "fname": "first_name",
        "Surname": "last_name",
        "Position": "title",
        "Organisation": "company_name",
        "Company Website": "website",
        "LinkedIn URL": "linkedin_url",
        "CRM ID": "external_id",
        "Time Zone": "timezone",
        "Notes": "custom",
    }


def test_an_edited_mapping_is_used_and_ignored_columns_are_dropped(workspace):
    content = "Work address,Who,Colour\ndana@acme.example,Dana Okafor,blue\n"
    job = run_import(
        workspace,
        content,
        mapping={"Work address": "email", "Who": "full_name", "Colour": "ignore"},
    )
    lead = leads_of(workspace).get()
    assert job.created_count == 1
    assert (lead.first_name, lead.last_name, lead.custom_fields) == ("Dana", "Okafor", {})


def test_a_mapping_without_email_or_crm_id_is_refused(workspace):
    job = import_job_create(workspace=workspace, uploaded_file=upload(CSV), user=None)
    with pytest.raises(AppError) as error:
        import_job_start(job=job, mapping={"Email": "ignore"})
    assert "required" in error.value.details


def test_quoted_fields_with_newlines_keep_line_numbers_right(workspace):
    content = 'email,notes\na@acme.example,"line one\nline two\nline three"\nbroken@,x\n'
    run_import(workspace, content)
    assert ImportRowError.objects.for_workspace(workspace).get().line == 5


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("email;first_name\nzoë@café.example;Zoë\n", "utf-8-sig"),
        ("email;first_name\nrene@acme.example;René\n", "cp1252"),
        ("email\tfirst_name\nrene@acme.example\tRené\n", "utf-16"),
    ],
)
def test_bom_windows_encodings_and_other_delimiters_are_read(workspace, content, encoding):
    data = content.encode(encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    run_import(workspace, data)
    assert leads_of(workspace).get().first_name in {"Zoë", "René"}


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "empty"), ("email,first_name\n", "no rows"), (b"\x89PNG\r\n\x1a\n\x00\x00", "CSV")],
)
def test_files_that_are_not_lead_lists_are_refused_clearly(workspace, content, message):
    with pytest.raises(AppError, match=message):
        import_job_create(workspace=workspace, uploaded_file=upload(content), user=None)


def test_more_than_100000_rows_are_refused_before_any_work(workspace):
    content = "email\n" + "".join(f"p{i}@acme.example\n" for i in range(100_001))
    with pytest.raises(AppError, match="100,001 rows"):
        import_job_create(workspace=workspace, uploaded_file=upload(content), user=None)
    assert not ImportJob.objects.for_workspace(workspace).exists()


def test_duplicates_in_one_file_are_merged_later_values_winning(workspace):
    content = "email,first_name,title\ndana@acme.example,Dana,\nDANA@acme.example,,CEO\n"
    job = run_import(workspace, content)
    lead = leads_of(workspace).get()
    assert (job.created_count, lead.first_name, lead.title) == (1, "Dana", "CEO")


def test_rows_update_existing_leads_by_crm_id_then_email(workspace):
    by_id = LeadFactory(
        workspace=workspace, external_id="crm-1", email="old@acme.example", title=""
    )
    by_email = LeadFactory(workspace=workspace, email="robin@acme.example", title="Engineer")
    content = "id,email,title\ncrm-1,new@acme.example,CTO\n,robin@acme.example,\n"
    job = run_import(workspace, content)
    assert (job.created_count, job.updated_count) == (0, 2)
    by_id.refresh_from_db()
    by_email.refresh_from_db()
    assert (by_id.email, by_id.title) == ("new@acme.example", "CTO")
    assert by_email.title == "Engineer"  # an empty cell erases nothing


def test_bad_timezones_and_linkedin_urls_are_rejected_with_reasons(workspace):
    content = (
        "email,first_name,timezone,linkedin\n"
        "b@acme.example,B,Mars/Olympus,\n"
        "c@acme.example,C,,https://example.com/in/c\n"
        "d@acme.example,D,Europe/Paris,linkedin.com/in/dee\n"
    )
    job = run_import(workspace, content)
    reasons = list(ImportRowError.objects.for_workspace(workspace).values_list("line", "reason"))
    assert [line for line, _ in reasons] == [2, 3]
    assert "time zone" in reasons[0][1]
    assert "LinkedIn" in reasons[1][1]
    assert leads_of(workspace).get().linkedin_url == "https://www.linkedin.com/in/dee"
    assert job.created_count == 1


LONG_TITLE = "Senior Vice President of Global Revenue Operations and Strategic Partnerships " * 4


def test_values_too_long_for_their_column_are_cut_and_the_row_is_kept_with_a_warning(
    workspace, web
):
    content = (
        "email,first_name,title,phone,company,id\n"
        f"a@acme.example,{'x' * 101},{LONG_TITLE},{'1' * 41},{'Acme ' * 50},\n"
        f"b@acme.example,B,CTO,,Acme,{'9' * 201}\n"
        "c@acme.example,C,CTO,+1 555 0100,Acme,\n"
    )
    job = run_import(workspace, content)

    assert (job.created_count, job.error_count, job.warning_count) == (2, 1, 1)
    cut = leads_of(workspace).select_related("company").get(email="a@acme.example")
    assert cut.first_name == "x" * 100
    # Cut at the last word break, never mid-word, and the title still classifies.
    assert len(cut.title) <= 200 and LONG_TITLE.startswith(cut.title + " ")
    assert (cut.seniority, cut.department) == ("vp", "sales")
    assert cut.phone == ""  # a cut phone number is a wrong number: left out instead
    assert len(cut.company.name) <= 200
    # An external_id is an identity: cutting it could merge two leads, so the row is refused.
    refused = ImportRowError.objects.for_workspace(workspace).get(kept=False)
    assert refused.line == 3 and "external_id is longer than 200" in refused.reason
    warned = ImportRowError.objects.for_workspace(workspace).get(kept=True)
    assert warned.line == 2
    assert "first_name was longer than 100 characters and was cut." in warned.reason
    assert "title was longer than 200" in warned.reason
    assert "phone is longer than 40 characters and was left out." in warned.reason
    assert "company_name was longer than 200" in warned.reason

    rejected = csv_rows(web.get(f"/leads/imports/{job.pk}/rejected.csv"))
    assert [row[0] for row in rejected[1:]] == ["3"]
    cut_rows = csv_rows(web.get(f"/leads/imports/{job.pk}/cut.csv"))
    assert cut_rows[0][:3] == ["line", "warning", "email"]
    assert [row[0] for row in cut_rows[1:]] == ["2"] and cut_rows[1][
        4
    ] == LONG_TITLE  # as in the file
    progress = web.get(f"/leads/imports/{job.pk}/progress/").content.decode()
    assert "1 row imported with a value cut to fit" in progress


def csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_cut_never_separates_a_letter_from_its_accent_and_custom_fields_are_cut_too(workspace):
    name = "e" * 99 + "e\u0301" + "z"  # the 100th letter is é written as e + combining accent
    result = leads_upsert(
        workspace=workspace,
        rows=[{"email": "a@acme.example", "last_name": name, "notes": "n" * 1001}],
        source="api",
    )
    lead = leads_of(workspace).get()
    assert lead.last_name == "e" * 99
    assert lead.custom_fields == {"notes": "n" * 1000}
    assert result.warnings == {
        0: [
            "Custom field 'notes' was longer than 1,000 characters and was cut.",
            "last_name was longer than 100 characters and was cut.",
        ]
    }


def test_a_refused_row_carries_no_warnings(workspace):
    result = leads_upsert(
        workspace=workspace,
        rows=[{"email": "nope", "title": "t" * 201}, {"email": "a@acme.example"}],
        source="api",
    )
    assert [error["index"] for error in result.errors] == [0] and result.warnings == {}


def test_a_row_with_too_many_cells_is_rejected(workspace):
    run_import(workspace, "email,name\na@acme.example,A,surprise\nb@acme.example,B\n")
    assert ImportRowError.objects.for_workspace(workspace).get().line == 2
    assert leads_of(workspace).count() == 1


def test_a_redelivered_task_does_not_import_twice(workspace):
    job = run_import(workspace, CSV)
    assert import_job_run(job_id=str(job.pk)) is None
    job.refresh_from_db()
    assert job.done_rows == 4 and leads_of(workspace).count() == 3


def test_the_rejected_rows_report_has_line_reason_and_the_original_row(workspace, web):
    job = run_import(workspace, CSV)
    response = web.get(f"/leads/imports/{job.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "line",
        "reason",
        "Email",
        "First Name",
        "Last Name",
        "Job Title",
        "Company",
        "Website",
        "Favourite colour",
    ]
    assert rows[1][0] == "4" and rows[1][2] == "not-an-email"


def test_upsert_queries_do_not_grow_with_the_batch(workspace, django_assert_max_num_queries):
    rows = [
        {"email": f"p{i}@acme{i % 7}.example", "first_name": f"P{i}", "title": "CEO"}
        for i in range(500)
    ]
    # The new leads and their activities go through COPY (sdr.bulk.rows_insert): a
    # temporary table, the COPY and the INSERT each, where bulk_create took one statement.
    with django_assert_max_num_queries(16):
        result = leads_upsert(workspace=workspace, rows=rows, source="api")
    assert result.created == 500


def test_an_email_that_belongs_to_another_lead_is_not_stolen(workspace):
    LeadFactory(workspace=workspace, external_id="crm-1", email="a@acme.example")
    LeadFactory(workspace=workspace, email="b@acme.example")
    result = leads_upsert(
        workspace=workspace,
        rows=[{"external_id": "crm-1", "email": "b@acme.example"}],
        source="api",
    )
    assert "belongs to another lead" in result.errors[0]["reasons"][0]


# --- the API --------------------------------------------------------------------------


def test_bulk_upsert_saves_the_good_and_reports_the_bad_by_index(api, workspace):
    response = api.post(
        "/api/v1/leads/bulk-upsert/",
        {
            "leads": [
                {"email": "dana@acme.example", "first_name": "Dana", "crm_owner": "Kim"},
                {"email": "nope"},
                {"first_name": "No key"},
            ]
        },
        format="json",
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["updated"]) == (1, 0)
    assert [e["index"] for e in body["errors"]] == [1, 2]
    assert body["lead_ids"][0] and body["lead_ids"][1] is None
    assert leads_of(workspace).get().custom_fields == {"crm_owner": "Kim"}
    assert [(r["index"], r["status"], r["lead_id"]) for r in body["results"]] == [
        (0, "created", body["lead_ids"][0]),
        (1, "error", None),
        (2, "error", None),
    ]
    assert body["results"][1]["errors"] and body["results"][0]["errors"] == []
    assert [r["warnings"] for r in body["results"]] == [[], [], []]


def test_bulk_upsert_cuts_what_does_not_fit_and_says_so_per_row(api, workspace):
    body = api.post(
        "/api/v1/leads/bulk-upsert/",
        [
            {"email": "a@acme.example", "title": LONG_TITLE},
            {"email": "b@acme.example", "title": "CEO"},
        ],
        format="json",
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "created"]
    assert body["results"][0]["warnings"] == ["title was longer than 200 characters and was cut."]
    assert body["results"][1]["warnings"] == []
    assert len(leads_of(workspace).get(email="a@acme.example").title) <= 200


def test_bulk_upsert_says_per_row_what_happened(api, workspace):
    first = {"email": "dana@acme.example", "first_name": "Dana"}
    api.post("/api/v1/leads/bulk-upsert/", {"leads": [first]}, format="json")
    body = api.post(
        "/api/v1/leads/bulk-upsert/",
        {
            "leads": [
                first,
                {"email": "dana@acme.example", "title": "CFO"},
                {"email": "x@y.example"},
            ]
        },
        format="json",
    ).json()
    # The two rows for Dana are merged into one update; the new address is created.
    assert [r["status"] for r in body["results"]] == ["updated", "updated", "created"]
    assert body["results"][0]["lead_id"] == body["results"][1]["lead_id"]


def test_bulk_upsert_refuses_more_than_1000(api):
    response = api.post(
        "/api/v1/leads/bulk-upsert/",
        [{"email": f"p{i}@acme.example"} for i in range(1001)],
        format="json",
    )
    assert response.status_code == 400
    assert "At most 1000" in response.json()["error"]["message"]


@pytest.mark.parametrize("payload", ['{"leads": "x"}', "[1, 2", '"just a string"'])
def test_bulk_upsert_answers_malformed_bodies_in_the_error_shape(api, payload):
    response = api.post("/api/v1/leads/bulk-upsert/", payload, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "parse_error"}


def test_a_csv_is_uploaded_started_and_followed_through_the_api(
    api, workspace, django_capture_on_commit_callbacks
):
    response = api.post("/api/v1/imports/", {"file": upload(CSV)}, format="multipart")
    assert response.status_code == 201, response.json()
    job = response.json()
    assert job["status"] == "mapping" and job["mapping"]["Email"] == "email"
    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/imports/{job['id']}/start/", {}, format="json")
    assert started.status_code == 202
    done = api.get(f"/api/v1/imports/{job['id']}/").json()
    assert (done["status"], done["progress"], done["error_count"]) == ("done", 1.0, 1)
    rejected = api.get(f"/api/v1/imports/{job['id']}/errors/")
    assert rejected["Content-Type"] == "text/csv"
    assert "not-an-email" in rejected.content.decode()
    assert done["warning_count"] == 0


def test_the_api_gives_the_rows_imported_with_a_value_cut(api, workspace):
    job = run_import(workspace, f"email,title\na@acme.example,{LONG_TITLE}\n")
    assert api.get(f"/api/v1/imports/{job.pk}/").json()["warning_count"] == 1
    cut = csv_rows(api.get(f"/api/v1/imports/{job.pk}/warnings/"))
    assert cut[1][:3] == [
        "2",
        "title was longer than 200 characters and was cut.",
        "a@acme.example",
    ]


def test_starting_twice_is_a_conflict(api, workspace):
    job = import_job_create(workspace=workspace, uploaded_file=upload(CSV), user=None)
    assert api.post(f"/api/v1/imports/{job.pk}/start/", {}, format="json").status_code == 202
    response = api.post(f"/api/v1/imports/{job.pk}/start/", {}, format="json")
    assert response.status_code == 409


# --- the web UI -----------------------------------------------------------------------


def test_the_upload_mapping_and_progress_pages(web, workspace, django_capture_on_commit_callbacks):
    response = web.post("/leads/imports/", {"file": upload(CSV)})
    job = ImportJob.objects.for_workspace(workspace).get()
    assert response["Location"] == f"/leads/imports/{job.pk}/"
    mapping_page = web.get(response["Location"]).content.decode()
    assert "Map the columns" in mapping_page and "dana@northwind.example" in mapping_page
    form = {f"map-{i}": job.mapping[column] for i, column in enumerate(job.columns)}
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"/leads/imports/{job.pk}/start/", form)
    partial = web.get(f"/leads/imports/{job.pk}/progress/").content.decode()
    assert "4 of 4 rows" in partial and "Download rejected rows (1)" in partial
    assert "hx-trigger" not in partial  # done: the page stops polling


def test_uploading_a_bad_file_in_the_ui_says_why(web):
    response = web.post("/leads/imports/", {"file": upload("")}, follow=True)
    assert b"The file is empty" in response.content


def test_the_page_script_is_told_where_to_go_or_what_was_wrong_in_json(web, workspace):
    accept = {"HTTP_ACCEPT": "application/json"}
    sent = web.post("/leads/imports/", {"file": upload(CSV)}, **accept)
    job = ImportJob.objects.for_workspace(workspace).get()
    assert (sent.status_code, sent.json()) == (200, {"location": f"/leads/imports/{job.pk}/"})
    refused = web.post("/leads/imports/", {"file": upload("")}, **accept)
    assert refused.status_code == 400 and "The file is empty" in refused.json()["error"]
    missing = web.post("/leads/imports/", {}, **accept)
    assert missing.json() == {"error": "Choose a CSV file to upload."}
