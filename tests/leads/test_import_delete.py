"""Deleting an import from the imports page: one that failed (at mapping or while running)
goes with its stored file and rejected rows; one that is queued or running stays; only
owners, admins and the uploader may; a POST with its CSRF token, in the importer's own
workspace."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from leads import importing
from leads.models import ImportFileChunk, ImportJob, ImportRowError, Lead
from sdr.models import Membership
from tests.factories import (
    ImportFileChunkFactory,
    ImportJobFactory,
    ImportRowErrorFactory,
    LeadFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CSV = b"Email,First name\ndana@acme.example,Dana\nnot-an-email,Lee\n"


def _delete_url(job: ImportJob) -> str:
    return f"/leads/imports/{job.pk}/delete/"


def _exists(job: ImportJob) -> bool:
    return ImportJob.objects.for_workspace(job.workspace).filter(pk=job.pk).exists()


def _failed_job(workspace, *, created_by=None) -> ImportJob:
    job = ImportJobFactory(
        workspace=workspace,
        created_by=created_by,
        status=ImportJob.Status.FAILED,
        failure="The file could not be read.",
    )
    ImportFileChunkFactory(workspace=workspace, job=job, seq=0, data=CSV)
    ImportRowErrorFactory(workspace=workspace, job=job)
    return job


def test_an_upload_whose_mapping_failed_is_deleted_with_its_file(web, workspace):
    # Given an upload whose column mapping was refused: it waits for a mapping forever.
    web.post("/leads/imports/", {"file": SimpleUploadedFile("people.csv", CSV)})
    job = ImportJob.objects.for_workspace(workspace).get(filename="people.csv")
    refused = {"map-0": importing.IGNORE, "map-1": importing.IGNORE}
    web.post(f"/leads/imports/{job.pk}/start/", refused)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.MAPPING
    assert ImportFileChunk.objects.for_workspace(workspace).filter(job=job).exists()

    # When it is deleted from the imports page
    response = web.post(_delete_url(job), follow=True)

    # Then it, and the file kept for it, are gone, and the page says so in words.
    assert response.status_code == 200
    assert not _exists(job)
    assert not ImportFileChunk.objects.for_workspace(workspace).filter(job_id=job.pk).exists()
    assert "Deleted the import of people.csv." in response.content.decode()
    assert "people.csv" not in response.content.decode().split("<table", 1)[1]


def test_a_failed_import_goes_with_its_rejected_rows_and_the_leads_it_added_stay(
    web, workspace, member
):
    job = _failed_job(workspace, created_by=member)
    lead = LeadFactory(workspace=workspace, email="kept@acme.example")
    other = _failed_job(workspace, created_by=member)

    response = web.post(_delete_url(job))

    assert response.status_code == 302
    assert response["Location"] == "/leads/imports/"
    assert not _exists(job)
    assert not ImportRowError.objects.for_workspace(workspace).filter(job_id=job.pk).exists()
    assert not ImportFileChunk.objects.for_workspace(workspace).filter(job_id=job.pk).exists()
    # Only that import: the other one, its rows and the leads are untouched.
    assert _exists(other)
    assert ImportRowError.objects.for_workspace(workspace).filter(job=other).count() == 1
    assert Lead.objects.for_workspace(workspace).filter(pk=lead.pk).exists()


@pytest.mark.parametrize("status", [ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
def test_a_queued_or_running_import_cannot_be_deleted(web, workspace, member, status):
    job = ImportJobFactory(workspace=workspace, created_by=member, status=status)
    ImportFileChunkFactory(workspace=workspace, job=job, seq=0, data=CSV)

    response = web.post(_delete_url(job), follow=True)

    assert _exists(job)
    assert ImportFileChunk.objects.for_workspace(workspace).filter(job=job).exists()
    assert "still running" in response.content.decode()


def test_a_finished_import_can_be_deleted_too(web, workspace, member):
    job = ImportJobFactory(workspace=workspace, created_by=member, status=ImportJob.Status.DONE)

    web.post(_delete_url(job))

    assert not _exists(job)


def test_the_delete_button_shows_only_for_imports_that_may_be_deleted(web, workspace, member):
    failed = _failed_job(workspace, created_by=member)
    running = ImportJobFactory(
        workspace=workspace, created_by=member, status=ImportJob.Status.RUNNING
    )

    page = web.get("/leads/imports/").content.decode()

    assert _delete_url(failed) in page
    assert _delete_url(running) not in page


def test_a_member_may_delete_an_import_they_uploaded_but_not_a_colleagues(client, workspace):
    uploader = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    colleague = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    job = _failed_job(workspace, created_by=uploader)

    client.force_login(colleague)
    refused = client.post(_delete_url(job))
    assert refused.status_code == 403
    assert _exists(job)
    assert _delete_url(job) not in client.get("/leads/imports/").content.decode()

    client.force_login(uploader)
    assert client.post(_delete_url(job)).status_code == 302
    assert not _exists(job)


def test_an_admin_may_delete_anyones_import(client, workspace):
    uploader = MembershipFactory(workspace=workspace, role=Membership.Role.MEMBER).user
    admin = MembershipFactory(workspace=workspace, role=Membership.Role.ADMIN).user
    job = _failed_job(workspace, created_by=uploader)

    client.force_login(admin)
    client.post(_delete_url(job))

    assert not _exists(job)


def test_a_get_deletes_nothing(web, workspace, member):
    job = _failed_job(workspace, created_by=member)

    assert web.get(_delete_url(job)).status_code == 405
    assert _exists(job)


def test_a_post_without_the_csrf_token_is_refused(workspace, member):
    job = _failed_job(workspace, created_by=member)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)

    assert client.post(_delete_url(job)).status_code == 403
    assert _exists(job)


def test_an_import_of_another_workspace_is_not_found(web, other_workspace):
    owner = UserFactory()
    MembershipFactory(workspace=other_workspace, user=owner)
    job = _failed_job(other_workspace, created_by=owner)

    assert web.post(_delete_url(job)).status_code == 404
    assert _exists(job)


def test_an_unknown_import_is_not_found(web):
    unknown = "/leads/imports/00000000-0000-0000-0000-000000000000/delete/"
    assert web.post(unknown).status_code == 404
