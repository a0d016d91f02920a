"""Briefs from JSON descriptions (the `draft_email` command, evaluation sets)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from typing import Any

from outreach.drafting.briefs import CampaignBrief, FactRef, LeadBrief, PreviousEmail, StepBrief


class BriefError(ValueError):
    """The JSON does not describe a lead or campaign; the message lists every problem."""


def lead_from_json(data: Any) -> LeadBrief:
    if not isinstance(data, dict):
        raise BriefError("The lead must be a JSON object.")
    problems: list[str] = []
    company = data.get("company") or {}
    if not isinstance(company, dict):
        problems.append("company must be an object with name and domain")
        company = {}
    facts = [_fact(item, i, problems) for i, item in enumerate(_list(data, "facts", problems))]
    facts += [_signal(item, i, problems) for i, item in enumerate(_list(data, "signals", problems))]
    if not str(data.get("first_name", "")).strip():
        problems.append("first_name is required")
    ids = [f.id for f in facts if f is not None]
    if len(ids) != len(set(ids)):
        problems.append("fact and signal ids must be unique")
    if problems:
        raise BriefError("Invalid lead: " + "; ".join(problems))
    return LeadBrief(
        first_name=str(data["first_name"]).strip(),
        last_name=str(data.get("last_name", "")),
        title=str(data.get("title", "")),
        company_name=str(company.get("name", "")),
        company_domain=str(company.get("domain", "")),
        facts=tuple(f for f in facts if f is not None),
    )


def _list(data: dict, key: str, problems: list[str]) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key} must be a list")
        return []
    return value


def _fact(item: Any, index: int, problems: list[str]) -> FactRef | None:
    if (
        not isinstance(item, dict)
        or not item.get("id")
        or not item.get("field")
        or ("value" not in item)
    ):
        problems.append(f"facts[{index}] needs id, field and value")
        return None
    return FactRef(
        id=str(item["id"]),
        field=str(item["field"]),
        value=item["value"],
        source_url=str(item.get("source_url", "")),
        evidence=str(item.get("evidence", "")),
        observed_on=_date(item.get("observed_at"), f"facts[{index}].observed_at", problems),
        confidence=float(item.get("confidence", 0.7)),
    )


def _signal(item: Any, index: int, problems: list[str]) -> FactRef | None:
    if (
        not isinstance(item, dict)
        or not item.get("id")
        or not item.get("kind")
        or not item.get("title")
    ):
        problems.append(f"signals[{index}] needs id, kind and title")
        return None
    happened = _date(item.get("happened_on"), f"signals[{index}].happened_on", problems)
    value = {"title": item["title"], **(item.get("details") or {})}
    for key in ("amount", "currency"):
        if item.get(key) not in (None, ""):
            value[key] = item[key]
    if happened:
        value["date"] = happened.isoformat()
    return FactRef(
        id=str(item["id"]),
        field=f"signal.{item['kind']}",
        value=value,
        source_url=str(item.get("source_url", "")),
        evidence=str(item.get("evidence", "")),
        observed_on=happened,
        happened_on=happened,
        confidence=0.8,
    )


def _date(value: Any, where: str, problems: list[str]) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        problems.append(f"{where} must be a date like 2026-11-23")
        return None


CAMPAIGN_LISTS = {
    "value_propositions",
    "proof_points",
    "case_studies",
    "example_emails",
    "allowed_links",
    "competitors",
}


def campaign_from_json(data: Any) -> tuple[CampaignBrief, StepBrief, list[str]]:
    """The campaign, the step to draft (default: first touch) and other drafts to compare."""
    if not isinstance(data, dict):
        raise BriefError("The campaign must be a JSON object.")
    problems = [
        f"{key} is required"
        for key in ("product", "call_to_action")
        if not str(data.get(key, "")).strip()
    ]
    known = {f.name for f in fields(CampaignBrief)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            continue
        if key in CAMPAIGN_LISTS:
            if not isinstance(value, list):
                problems.append(f"{key} must be a list")
                continue
            value = tuple(value)
        values[key] = value
    step_data = data.get("step") or {}
    previous = step_data.get("previous", []) if isinstance(step_data, dict) else []
    if not isinstance(step_data, dict) or step_data.get("kind", "first_touch") not in {
        "first_touch",
        "follow_up",
        "break_up",
    }:
        problems.append("step.kind must be first_touch, follow_up or break_up")
        step_data = {}
    others = data.get("other_drafts", [])
    if not isinstance(others, list):
        problems.append("other_drafts must be a list of email bodies")
        others = []
    if problems:
        raise BriefError("Invalid campaign: " + "; ".join(problems))
    step = StepBrief(
        kind=step_data.get("kind", "first_touch"),
        order=int(step_data.get("order", 1)),
        instructions=str(step_data.get("instructions", "")),
        previous=tuple(
            PreviousEmail(subject=str(p.get("subject", "")), body=str(p.get("body", "")))
            for p in previous
            if isinstance(p, dict)
        ),
    )
    return CampaignBrief(**values), step, [str(o) for o in others]
