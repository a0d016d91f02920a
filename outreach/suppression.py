"""Who must not be written to. The sending work adds the suppression list and unsubscribes;
every path that picks recipients asks here."""

from __future__ import annotations

from collections.abc import Iterable

from leads.models import Lead
from sdr.models import Workspace

OPTED_OUT = [Lead.Status.UNSUBSCRIBED, Lead.Status.BOUNCED, Lead.Status.DO_NOT_CONTACT]


def suppressed_emails(*, workspace: Workspace, emails: Iterable[str]) -> set[str]:
    emails = {e for e in emails if e}
    if not emails:
        return set()
    return set(
        Lead.objects.for_workspace(workspace)
        .filter(email__in=emails, status__in=OPTED_OUT)
        .values_list("email", flat=True)
    )
