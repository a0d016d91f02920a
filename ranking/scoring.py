"""The ranking against the database: read features in bulk, learn from outcomes, write
scores back in bulk.

Reads go through a server-side cursor in batches and writes through COPY into a staging
table and one UPDATE: the nightly job touches every lead of every workspace, and the ORM
row by row would be about four orders of magnitude slower (see bench/bench_rank.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from leads.models import Lead, Signal
from outreach.models import Outcome
from ranking import features
from ranking.bayes import Posterior, probability
from ranking.models import IdealCustomerProfile, RankingModel
from sdr.models import Workspace

BATCH = 20_000
# Read from Outcome.Kind: what counts as a success, and what as a contact that failed.
# An unsubscribe is a failed contact too, as clearly as "not interested".
POSITIVE = {Outcome.Kind.POSITIVE_REPLY, Outcome.Kind.MEETING_BOOKED}
NEGATIVE = {
    Outcome.Kind.NO_RESPONSE,
    Outcome.Kind.NOT_INTERESTED,
    Outcome.Kind.BOUNCED,
    Outcome.Kind.UNSUBSCRIBED,
}
BASIS_PROFILE, BASIS_MODEL = "profile", "model"
# Leads whose score still decides something: not yet at a final stage.
RANKABLE_STATUSES = ("new", "active")

_FACTS_SQL = """
WITH sig AS (
    SELECT company_id, array_agg(DISTINCT kind || ':' || CASE
        WHEN day >= current_date - 30 THEN '30d'
        WHEN day >= current_date - 90 THEN '90d'
        WHEN day >= current_date - 365 THEN '365d'
        ELSE 'older' END) AS signals
    FROM (SELECT company_id, kind, coalesce(happened_on, observed_at::date) AS day
          FROM leads_signal WHERE workspace_id = %(ws)s) s
    GROUP BY company_id
)
SELECT l.id, l.seniority, l.department, l.title, l.email <> '', c.industry,
       c.employee_count, c.country, c.location, c.tech_stack, sig.signals
FROM leads_lead l
LEFT JOIN leads_company c ON c.id = l.company_id
LEFT JOIN sig ON sig.company_id = l.company_id
WHERE l.workspace_id = %(ws)s {where}
"""


def profile_for(workspace: Workspace) -> features.Profile:
    icp = IdealCustomerProfile.objects.for_workspace(workspace).first()
    if icp is None:
        return features.Profile()
    return features.Profile.from_lists(
        industries=icp.industries,
        company_sizes=icp.company_sizes,
        seniorities=icp.seniorities,
        titles=icp.titles,
        departments=icp.departments,
        locations=icp.locations,
        must_have=icp.must_have,
        excluded=icp.excluded,
    )


def posterior_of(model: RankingModel | None) -> Posterior:
    if model is None:
        return Posterior(features.prior_mean(), np.ones(features.N_FEATURES))
    return Posterior(
        np.frombuffer(bytes(model.mean), dtype=np.float64).copy(),
        np.frombuffer(bytes(model.precision), dtype=np.float64).copy(),
    )


def lead_facts(
    *,
    workspace: Workspace,
    lead_ids: Sequence[uuid.UUID] | None = None,
    rankable_only: bool = False,
) -> Iterator[list[tuple[uuid.UUID, features.LeadFacts]]]:
    """Batches of (lead id, facts), read through a server-side cursor. Call inside a
    transaction (a named cursor lives in one)."""
    if connection.vendor != "postgresql":
        yield from _lead_facts_portable(workspace, lead_ids, rankable_only)
        return
    where, params = "", dict[str, Any]({"ws": workspace.pk})
    if lead_ids is not None:
        where += " AND l.id = ANY(%(ids)s)"
        params["ids"] = list(lead_ids)
    if rankable_only:
        where += " AND l.status = ANY(%(statuses)s)"
        params["statuses"] = list(RANKABLE_STATUSES)
    raw = connection.connection
    with raw.cursor(name=f"rank_{uuid.uuid4().hex[:12]}") as cursor:
        cursor.itersize = BATCH
        cursor.execute(_FACTS_SQL.format(where=where), params)
        while rows := cursor.fetchmany(BATCH):
            yield [(row[0], _facts(row)) for row in rows]


def _lead_facts_portable(
    workspace: Workspace, lead_ids: Sequence[uuid.UUID] | None, rankable_only: bool
) -> Iterator[list[tuple[uuid.UUID, features.LeadFacts]]]:
    """The same facts through the ORM, for the SQLite demo (a few hundred leads)."""
    leads = Lead.objects.for_workspace(workspace).select_related("company")
    if lead_ids is not None:
        leads = leads.filter(pk__in=lead_ids)
    if rankable_only:
        leads = leads.filter(status__in=RANKABLE_STATUSES)
    signals: dict[uuid.UUID, set[str]] = {}
    today = timezone.now().date()
    for company_id, kind, happened_on, observed_at in Signal.objects.for_workspace(
        workspace
    ).values_list("company_id", "kind", "happened_on", "observed_at"):
        age = (today - (happened_on or observed_at.date())).days
        recency = next((name for days, name in _RECENCY if age <= days), "older")
        signals.setdefault(company_id, set()).add(f"{kind}:{recency}")
    batch = []
    for lead in leads.iterator():
        c = lead.company
        row: tuple[Any, ...] = (
            lead.pk,
            lead.seniority,
            lead.department,
            lead.title,
            bool(lead.email),
        )
        row += (
            (c.industry, c.employee_count, c.country, c.location, c.tech_stack)
            if c
            else (None,) * 5
        )
        batch.append((lead.pk, _facts((*row, sorted(signals.get(lead.company_id, ()))))))
    if batch:
        yield batch


_RECENCY = [(30, "30d"), (90, "90d"), (365, "365d")]


def _facts(row: tuple) -> features.LeadFacts:
    tech = row[9] if isinstance(row[9], list) else []
    return features.LeadFacts(
        seniority=row[1],
        department=row[2],
        title=row[3],
        has_email=row[4],
        industry=row[5] or "",
        employee_count=row[6],
        country=row[7] or "",
        location=row[8] or "",
        tech=[str(t) for t in tech],
        signals=row[10] or (),
    )


def outcomes_learn(*, workspace: Workspace) -> int:
    """Update the workspace's model with every outcome it has not learned yet; how many.

    The model row is locked for the update, so two outcomes recorded at once are learned
    one after the other rather than one overwriting the other.
    """
    with transaction.atomic():
        RankingModel.objects.for_workspace(workspace).get_or_create(
            workspace=workspace,
            defaults={
                "n_features": features.N_FEATURES,
                "mean": features.prior_mean().tobytes(),
                "precision": np.ones(features.N_FEATURES).tobytes(),
            },
        )
        model = RankingModel.objects.for_workspace(workspace).select_for_update().get()
        outcomes = _unlearned(model, workspace)
        if not outcomes:
            return 0
        labels = {o.lead_id: 0 for o in outcomes}
        by_lead: dict[uuid.UUID, features.LeadFacts] = {}
        for batch in lead_facts(workspace=workspace, lead_ids=list(labels)):
            by_lead.update(batch)
        profile = profile_for(workspace)
        learnable = [o for o in outcomes if o.lead_id in by_lead]
        X = features.features_matrix(
            features.lead_features(by_lead[o.lead_id], profile) for o in learnable
        )
        y = np.array([1.0 if o.kind in POSITIVE else 0.0 for o in learnable])
        posterior = posterior_of(model).update(X, y)
        model.mean, model.precision = posterior.mean.tobytes(), posterior.precision.tobytes()
        model.outcomes_learned += len(learnable)
        model.positives_learned += int(y.sum())
        model.learned_until, model.learned_until_id = outcomes[-1].created_at, outcomes[-1].pk
        model.save()
        return len(learnable)


def _unlearned(model: RankingModel, workspace: Workspace) -> list[Outcome]:
    queryset = Outcome.objects.for_workspace(workspace).filter(kind__in=[*POSITIVE, *NEGATIVE])
    if model.learned_until is not None:
        queryset = queryset.filter(
            Q(created_at__gt=model.learned_until)
            | Q(created_at=model.learned_until, id__gt=model.learned_until_id)
        )
    return list(queryset.order_by("created_at", "id"))


def scores_write(
    *,
    workspace: Workspace,
    lead_ids: Sequence[uuid.UUID] | None = None,
    rankable_only: bool = False,
) -> int:
    """Score leads with the posterior mean and write score, reasons and basis; how many."""
    model = RankingModel.objects.for_workspace(workspace).first()
    weights = posterior_of(model).mean
    basis = BASIS_MODEL if model is not None and model.outcomes_learned else BASIS_PROFILE
    profile = profile_for(workspace)
    now = timezone.now()
    written = 0
    if connection.vendor != "postgresql":
        return _scores_write_portable(workspace, lead_ids, rankable_only, profile, weights, basis)
    with transaction.atomic(), connection.cursor() as cursor:
        # Named per call and dropped here: ON COMMIT DROP would wait for the outermost
        # commit, and a caller's transaction may score twice.
        stage = f"ranking_stage_{uuid.uuid4().hex[:12]}"
        cursor.execute(f"CREATE TEMP TABLE {stage} (id uuid, score float8, reasons jsonb)")
        for batch in lead_facts(
            workspace=workspace, lead_ids=lead_ids, rankable_only=rankable_only
        ):
            rows = score_batch(batch, profile, weights)
            with cursor.copy(f"COPY {stage} (id, score, reasons) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            written += len(rows)
        # The table name is ours, made above; the values are parameters.
        cursor.execute(
            "UPDATE leads_lead l SET score = s.score, score_reasons = s.reasons, "  # noqa: S608
            f"score_basis = %s, scored_at = %s FROM {stage} s "
            "WHERE l.id = s.id AND l.workspace_id = %s",
            [basis, now, workspace.pk],
        )
        cursor.execute(f"DROP TABLE {stage}")
    return written


def _scores_write_portable(
    workspace: Workspace,
    lead_ids: Sequence[uuid.UUID] | None,
    rankable_only: bool,
    profile: features.Profile,
    weights: np.ndarray,
    basis: str,
) -> int:
    now, written = timezone.now(), 0
    for batch in lead_facts(workspace=workspace, lead_ids=lead_ids, rankable_only=rankable_only):
        leads = [
            Lead(
                pk=pk, score=score, score_reasons=json.loads(text), score_basis=basis, scored_at=now
            )
            for pk, score, text in score_batch(batch, profile, weights)
        ]
        Lead.objects.for_workspace(workspace).bulk_update(
            leads, ["score", "score_reasons", "score_basis", "scored_at"]
        )
        written += len(leads)
    return written


def score_batch(
    batch: list[tuple[uuid.UUID, features.LeadFacts]],
    profile: features.Profile,
    weights: np.ndarray,
) -> list[tuple[uuid.UUID, float, str]]:
    """(id, score, reasons as JSON) for each lead of a batch."""
    names = [features.lead_features(facts, profile) for _, facts in batch]
    scores = probability(features.features_matrix(names), weights)
    # Leads share feature sets (same company, same title band): reasons once per set.
    cache: dict[tuple[str, ...], str] = {}
    out = []
    for (lead_id, _), lead_names, score in zip(batch, names, scores, strict=True):
        key = tuple(lead_names)
        text = cache.get(key)
        if text is None:
            text = cache[key] = json.dumps(features.reasons(lead_names, weights))
        out.append((lead_id, float(score), text))
    return out


def sample_scores(
    *, workspace: Workspace, lead_ids: Sequence[uuid.UUID], rng: np.random.Generator
) -> dict[uuid.UUID, float]:
    """Scores under one weight vector drawn from the posterior (Thompson sampling)."""
    model = RankingModel.objects.for_workspace(workspace).first()
    weights = posterior_of(model).sample(rng)
    profile = profile_for(workspace)
    result: dict[uuid.UUID, float] = {}
    with transaction.atomic():
        for batch in lead_facts(workspace=workspace, lead_ids=lead_ids):
            X = features.features_matrix(features.lead_features(f, profile) for _, f in batch)
            result.update(zip([i for i, _ in batch], probability(X, weights).tolist(), strict=True))
    return result


def outcome_rescore(*, workspace: Workspace, lead_id: uuid.UUID | None = None) -> int:
    """After an outcome: learn it, then re-score the leads still to contact and the lead
    itself. The nightly job re-scores everyone; both read the same model."""
    outcomes_learn(workspace=workspace)
    written = scores_write(workspace=workspace, rankable_only=True)
    if lead_id is not None:
        written += scores_write(workspace=workspace, lead_ids=[lead_id])
    return written


def nightly_rescore(*, workspace: Workspace) -> int:
    """Learn anything missed (a lost task), then re-score every lead of the workspace."""
    outcomes_learn(workspace=workspace)
    return scores_write(workspace=workspace)


def workspaces_rescore() -> int:
    """The nightly job: every workspace, one at a time."""
    total = 0
    for workspace in Workspace.objects.order_by("pk"):
        total += nightly_rescore(workspace=workspace)
    return total
