"""Moving enrollments between states (stopped, paused, finished), with one activity each.

One place for it: outcomes, replies, archiving and unenrolling all end or hold sequences,
and each must lock the rows it moves and log every move the same way.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from outreach.models import Enrollment
from sdr.activity import Event, activities_record


def enrollments_move(
    enrollments: QuerySet[Enrollment],
    *,
    status: str,
    reason: str,
    activity: str,
    payload: dict[str, Any] | None = None,
) -> list[tuple[Any, Any]]:
    """Lock the enrollments of one workspace's queryset, set their status and reason, and
    record `activity` for each; returns their (id, lead id). Call inside a transaction."""
    # NO KEY: a status change must not wait for a commit checking a new message's
    # foreign key to the enrollment (KEY SHARE), which may be waiting for us.
    rows = list(
        enrollments.select_for_update(of=("self",), no_key=True).values_list(
            "pk", "lead_id", "workspace_id"
        )
    )
    if not rows:
        return []
    Enrollment.unscoped_objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
        status=status, stop_reason=reason[:300], updated_at=timezone.now()
    )
    activities_record(
        workspace=rows[0][2],
        events=[
            Event(
                activity,
                "enrollment",
                pk,
                {"lead": str(lead_id), "status": status, **(payload or {})},
            )
            for pk, lead_id, _ in rows
        ],
    )
    return [(pk, lead_id) for pk, lead_id, _ in rows]
