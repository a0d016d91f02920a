"""`rank_eval`: the ranking's feedback loop replayed on a table of past outreach.

Start with no labels; each round contact the top K rows by a Thompson sample of the
current model, reveal their outcomes, update, repeat. The same Posterior as production,
so the numbers say how the product's loop would have done on that history.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import KBinsDiscretizer

from ranking.bayes import Posterior, probability

# Numbers become quantile bands: the model is linear in log-odds, and age or balance
# rarely are.
NUMERIC_BINS = 5


class EvalError(ValueError):
    """The table or the options cannot be evaluated; the message says why."""


@dataclass
class Table:
    rows: list[dict[str, str]]
    columns: list[str]


def table_read(text: str) -> Table:
    """A CSV with a header row; the delimiter (comma, semicolon, tab) is sniffed."""
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]
    if not columns or not rows:
        raise EvalError("The CSV has no header or no rows.")
    return Table(rows, columns)


def _numeric(values: list[str]) -> np.ndarray | None:
    try:
        return np.array([float(v) for v in values])
    except ValueError:
        return None


def table_features(table: Table, columns: Sequence[str]) -> sparse.csr_matrix:
    """One-hot "column=value" features (numbers in quantile bands) plus a bias."""
    records: list[dict[str, str | float]] = [{"bias": 1.0} for _ in table.rows]
    for column in columns:
        values = [row.get(column, "") for row in table.rows]
        numbers = _numeric(values)
        if numbers is not None and len(set(values)) > NUMERIC_BINS:
            binner = KBinsDiscretizer(
                n_bins=NUMERIC_BINS,
                encode="ordinal",
                strategy="quantile",
                quantile_method="averaged_inverted_cdf",
            )
            with warnings.catch_warnings():
                # A value most rows share (pdays = -1) merges bands; that is the intent.
                warnings.filterwarnings("ignore", message="Bins whose width are too small")
                bands = binner.fit_transform(numbers.reshape(-1, 1)).ravel().astype(int)
            values = [f"q{band}" for band in bands]
        for record, value in zip(records, values, strict=True):
            record[column] = value
    return DictVectorizer().fit_transform(records).tocsr()


def rank_eval(
    table: Table,
    *,
    label: str,
    positive: str,
    drop: Sequence[str] = (),
    rounds: int = 10,
    batch: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """The loop's cumulative positives per round against random and an offline oracle,
    and the final model's AUC on the rows never contacted."""
    if label not in table.columns:
        raise EvalError(f"No column {label!r}; the columns are {', '.join(table.columns)}.")
    unknown = [c for c in drop if c not in table.columns]
    if unknown:
        raise EvalError(f"Cannot drop unknown columns: {', '.join(unknown)}.")
    if rounds < 1 or batch < 1:
        raise EvalError("--rounds and --batch must be at least 1.")
    y = np.array([row.get(label, "") == positive for row in table.rows], dtype=float)
    if not 0 < y.sum() < len(y):
        raise EvalError(f"{label}={positive!r} must match some rows but not all.")
    features = [c for c in table.columns if c != label and c not in drop]
    X = table_features(table, features)
    n = len(y)
    rng = np.random.default_rng(seed)
    oracle_order = np.argsort(-_oracle(X, y), kind="stable")
    posterior = Posterior.prior(X.shape[1])
    contacted = np.zeros(n, dtype=bool)
    report = []
    for number in range(1, rounds + 1):
        remaining = np.flatnonzero(~contacted)
        if remaining.size == 0:
            break
        sampled = probability(X[remaining], posterior.sample(rng))
        chosen = remaining[np.argsort(-sampled, kind="stable")[:batch]]
        contacted[chosen] = True
        posterior = posterior.update(X[chosen], y[chosen])
        count = int(contacted.sum())
        report.append(
            {
                "round": number,
                "contacted": count,
                "positives_model": int(y[contacted].sum()),
                "positives_random": round(float(count * y.mean()), 2),
                "positives_oracle": int(y[oracle_order[:count]].sum()),
            }
        )
    return {"rounds": report, "auc_uncontacted": _auc(X, y, ~contacted, posterior)}


def _oracle(X: sparse.csr_matrix, y: np.ndarray) -> np.ndarray:
    """A model trained offline on every label: how well a ranking could do at best."""
    return LogisticRegression(max_iter=2000).fit(X, y).predict_proba(X)[:, 1]


def _auc(
    X: sparse.csr_matrix, y: np.ndarray, rows: np.ndarray, posterior: Posterior
) -> float | None:
    if len(set(y[rows].tolist())) < 2:
        return None  # one class left (or none): no curve to measure
    return round(float(roc_auc_score(y[rows], probability(X[rows], posterior.mean))), 4)
