"""Reads the UI, the API and the enrollment share: the model's status, contact order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

import numpy as np
from django.db.models import QuerySet

from leads.models import Lead
from ranking import scoring
from ranking.models import RankingModel
from sdr.models import Workspace


class ModelStatus(TypedDict):
    outcomes_learned: int
    positives_learned: int
    basis: str
    updated_at: datetime | None


def model_status(workspace: Workspace) -> ModelStatus:
    """How much the workspace's model has learned, and whether scores are the profile's
    fit alone ("profile": no outcomes yet) or learned ("model")."""
    model = RankingModel.objects.for_workspace(workspace).first()
    learned = model.outcomes_learned if model else 0
    return {
        "outcomes_learned": learned,
        "positives_learned": model.positives_learned if model else 0,
        "basis": scoring.BASIS_MODEL if learned else scoring.BASIS_PROFILE,
        "updated_at": model.updated_at if model else None,
    }


def leads_in_contact_order(
    workspace: Workspace,
    queryset: QuerySet[Lead],
    *,
    limit: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[Lead]:
    """The leads of `queryset` (already scoped and filtered to the eligible ones) in the
    order to contact them: by a score drawn from the model's posterior (Thompson
    sampling), so leads of segments the model knows little about still get some contacts.
    """
    ids = list(queryset.values_list("pk", flat=True))
    if not ids:
        return []
    sampled = scoring.sample_scores(
        workspace=workspace, lead_ids=ids, rng=rng or np.random.default_rng()
    )
    order = sorted(ids, key=lambda pk: -sampled.get(pk, 0.0))[:limit]
    leads: dict[Any, Lead] = queryset.in_bulk(order)
    return [leads[pk] for pk in order if pk in leads]
