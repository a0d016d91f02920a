"""Scraped text is data: facts that read like instructions never reach a prompt or an email."""

from __future__ import annotations

from outreach.drafting.briefs import FactRef


def fact_is_usable(fact: FactRef) -> bool:
    from leads.extraction import looks_like_instructions

    return not (looks_like_instructions(fact.text) or looks_like_instructions(fact.evidence))


def usable_facts(facts: tuple[FactRef, ...]) -> tuple[FactRef, ...]:
    return tuple(fact for fact in facts if fact_is_usable(fact))
