"""Writes of the ranking that people make: the ideal customer profile."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from leads.models import Lead
from ranking import features
from ranking.models import IdealCustomerProfile
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace
from sdr.queue import hint_after_commit

PROFILE_FIELDS = (
    "industries",
    "company_sizes",
    "seniorities",
    "titles",
    "departments",
    "locations",
    "must_have",
    "excluded",
)
MAX_ITEMS = 50
MAX_ITEM_LENGTH = 80
# Lists whose values must be one of ours, not free text.
_CHOICES: dict[str, list[str]] = {
    "company_sizes": features.SIZE_CHOICES,
    "seniorities": [value for value in Lead.Seniority.values if value],
}


def profile_get(*, workspace: Workspace) -> IdealCustomerProfile:
    """The workspace's profile, empty until someone sets it (not saved until then)."""
    existing = IdealCustomerProfile.objects.for_workspace(workspace).first()
    return existing or IdealCustomerProfile(workspace=workspace)


def profile_update(*, workspace: Workspace, **lists: Any) -> IdealCustomerProfile:
    """Set the given lists (others unchanged), then re-score the workspace's leads after
    commit: at cold start the profile is the whole score."""
    cleaned = {name: _clean(name, value) for name, value in lists.items()}
    unknown = set(cleaned) - set(PROFILE_FIELDS)
    if unknown:
        raise AppError(ErrorCode.INVALID, f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        profile, _ = IdealCustomerProfile.objects.for_workspace(workspace).get_or_create(
            workspace=workspace
        )
        for name, value in cleaned.items():
            setattr(profile, name, value)
        profile.save()
        from ranking.tasks import workspace_rescore_task

        hint_after_commit(workspace_rescore_task, str(workspace.pk))
    return profile


def leads_score_after_commit(*, workspace: Workspace, lead_ids: Iterable[Any]) -> None:
    """Score leads that were just written (created, or changed in what they are scored
    on) once the write commits, with the model as it stands: a lead imported in the
    morning sorts and enrolls by its rank that day, not after the nightly job."""
    from ranking.tasks import leads_score_task

    ids = [str(lead_id) for lead_id in lead_ids]
    if ids:
        hint_after_commit(leads_score_task, str(workspace.pk), ids)


def _clean(name: str, value: Any) -> list[str]:
    if isinstance(value, str):  # the web form sends one comma-separated line
        value = value.split(",")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _invalid(name, "Give a list of strings.")
    items = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > MAX_ITEMS:
        raise _invalid(name, f"At most {MAX_ITEMS} entries.")
    if any(len(v) > MAX_ITEM_LENGTH for v in items):
        raise _invalid(name, f"Each entry at most {MAX_ITEM_LENGTH} characters.")
    allowed = _CHOICES.get(name)
    if allowed is not None and (bad := [v for v in items if v not in allowed]):
        raise _invalid(name, f"Not one of {', '.join(allowed)}: {', '.join(bad)}.")
    return items


def _invalid(name: str, message: str) -> AppError:
    return AppError(ErrorCode.INVALID, f"{name}: {message}", details={name: [message]})
