"""Deleting an import that is not in motion: the job, its stored file and its rejected rows.

Kept apart from `leads/importing.py` (the running import) because it only ever touches a
job no worker holds; the leads an import created or updated stay.
"""

from __future__ import annotations

from django.db import transaction

from leads.models import ImportJob
from sdr.errors import AppError, ErrorCode

# Queued and running imports belong to a worker (or are about to): deleting one under it
# would leave a run writing batches for a job that no longer exists.
DELETABLE = (ImportJob.Status.MAPPING, ImportJob.Status.DONE, ImportJob.Status.FAILED)


def import_job_delete(*, job: ImportJob) -> None:
    """Delete `job` with its chunks and row errors (ON DELETE CASCADE), unless it is queued
    or running. The row lock makes "check, then delete" one step: a start or claim that
    comes at the same moment waits, then finds no row to change."""
    with transaction.atomic():
        locked = (
            ImportJob.objects.for_workspace(job.workspace)
            .select_for_update()
            .only("pk", "status")
            .filter(pk=job.pk)
            .first()
        )
        if locked is None:
            return  # deleted already: the outcome asked for
        if locked.status not in DELETABLE:
            raise AppError(
                ErrorCode.CONFLICT,
                "This import is still running; it can be deleted once it has finished or failed.",
                status_code=409,
            )
        ImportJob.objects.for_workspace(job.workspace).filter(pk=job.pk).delete()
