import uuid

from celery import shared_task

from sdr import rls
from sdr.queue import hint


@shared_task(name="ranking.outcome_rescore")
def outcome_rescore_task(workspace_id: str, lead_id: str) -> int:
    from ranking.scoring import outcome_rescore
    from sdr.models import Workspace

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:  # deleted since the outcome: nothing to learn for
        return 0
    with rls.workspace_scope(workspace):
        return outcome_rescore(workspace=workspace, lead_id=uuid.UUID(lead_id))


@shared_task(name="ranking.nightly_rescore")
def nightly_rescore_task() -> int:
    from ranking.scoring import workspaces_rescore

    with rls.cross_workspace():
        total = workspaces_rescore()
    # With the ranks fresh, the best leads without an email are offered a guessed address
    # (DNS lookups: a task of its own, so a slow name server never holds up the scores).
    hint(email_guesses_task)
    return total


@shared_task(name="ranking.email_guesses")
def email_guesses_task() -> int:
    from ranking.email_finder import email_guesses_all, resolver_default

    with rls.cross_workspace():
        return email_guesses_all(resolver=resolver_default())


@shared_task(name="ranking.workspace_rescore")
def workspace_rescore_task(workspace_id: str) -> int:
    from ranking.scoring import nightly_rescore
    from sdr.models import Workspace

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    with rls.workspace_scope(workspace):
        return nightly_rescore(workspace=workspace)


@shared_task(name="ranking.leads_score")
def leads_score_task(workspace_id: str, lead_ids: list[str]) -> int:
    from ranking.scoring import scores_write
    from sdr.models import Workspace

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    with rls.workspace_scope(workspace):
        return scores_write(workspace=workspace, lead_ids=[uuid.UUID(i) for i in lead_ids])
