"""The lead page's score in words: how sure the ranking is, and its reasons signed.

The ranking core (`ranking/`) is built beside this page; until its `model_status` is
importable the number of outcomes learned from is counted here from the same table.
"""

from __future__ import annotations

from typing import Any

from django import template

from outreach.models import Outcome
from sdr.models import Workspace

register = template.Library()

# The outcomes the ranking learns from (issue 11): positives and negatives alike.
LEARNED_FROM = (
    Outcome.Kind.POSITIVE_REPLY,
    Outcome.Kind.MEETING_BOOKED,
    Outcome.Kind.NOT_INTERESTED,
    Outcome.Kind.NO_RESPONSE,
    Outcome.Kind.BOUNCED,
)


@register.simple_tag
def outcomes_learned(workspace: Workspace) -> int:
    try:
        from ranking.selectors import model_status  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return Outcome.objects.for_workspace(workspace).filter(kind__in=LEARNED_FROM).count()
    return int(model_status(workspace=workspace).get("outcomes_learned") or 0)


@register.filter
def score_reasons_shown(reasons: Any, limit: int = 5) -> list[dict[str, Any]]:
    """The strongest reasons, in the words the ranking gave them; a reason without words
    is left out rather than shown as a raw feature key."""
    if not isinstance(reasons, list):
        return []
    shown: list[tuple[float, dict[str, Any]]] = []
    for reason in reasons:
        if not isinstance(reason, dict) or not str(reason.get("label") or "").strip():
            continue
        try:
            contribution = float(reason.get("contribution", 0.0))
        except (TypeError, ValueError):
            continue
        words = {
            "label": str(reason["label"]),
            "sign": "+" if contribution >= 0 else "−",
            "size": f"{abs(contribution):.2f}",
            "effect": "raises the score" if contribution >= 0 else "lowers the score",
        }
        shown.append((contribution, words))
    shown.sort(key=lambda pair: -abs(pair[0]))
    return [words for _, words in shown[:limit]]
