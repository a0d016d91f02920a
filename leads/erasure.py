"""Erasing a person at their request: everything we hold about them goes, except a hash.

What goes: the lead, the facts about them, their enrollments with every draft and message
(and the reviewers' before/after copies of those), their outcomes, and the payloads of the
activities about any of these, or that name the lead or their address. Rejected import rows
that quote the address lose their copy of the row.

What stays: a suppression that keeps only a hash of the address (so a later import or sync
of the same person is never mailed), the bare ids and types in the activity log (the CRM
feed must still be able to say that lead X changed, and then that lead X was erased), and
one `lead.erased` activity carrying nothing but the id.

Not reached here: the uploaded CSV files of past imports still hold the row as uploaded.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from leads.contactability import suppression_add_erased
from leads.models import ImportRowError, Lead
from outreach.models import Enrollment, Message, Outcome
from sdr.activity import activity_record
from sdr.models import Activity


@transaction.atomic
def lead_erase(*, lead: Lead) -> None:
    workspace = lead.workspace
    # Locked, so an import or enrollment running now waits and then finds nothing.
    lead = Lead.objects.for_workspace(workspace).select_for_update().get(pk=lead.pk)
    lead_id = str(lead.pk)
    email = lead.email

    enrollments = Enrollment.objects.for_workspace(workspace).filter(lead=lead)
    messages = Message.objects.for_workspace(workspace).filter(enrollment__lead=lead)
    outcomes = Outcome.objects.for_workspace(workspace).filter(lead=lead)
    about_them = (
        Q(object_type="lead", object_id=lead_id)
        | Q(payload__lead=lead_id)
        | Q(object_type="enrollment", object_id__in=_ids(enrollments))
        | Q(object_type="message", object_id__in=_ids(messages))
        | Q(object_type="outcome", object_id__in=_ids(outcomes))
    )
    if email:
        # suppression.added / .lifted keep the address they were about in clear.
        about_them |= Q(object_type="suppression", payload__value=email)
        ImportRowError.objects.for_workspace(workspace).annotate(
            raw_text=Cast("raw", TextField())
        ).filter(raw_text__icontains=email).update(raw={})
    Activity.objects.for_workspace(workspace).filter(about_them).update(payload={})

    if email:
        suppression_add_erased(workspace=workspace, email=email)
    # Facts, enrollments (their messages and feedback) and outcomes go by cascade.
    lead.delete()
    activity_record(workspace=workspace, type="lead.erased", object_type="lead", object_id=lead_id)


def _ids(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """The rows' ids as text, to match `Activity.object_id`, as a subquery."""
    return queryset.annotate(id_text=Cast("pk", TextField())).values("id_text")
