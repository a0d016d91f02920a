"""Scraped text is data: facts that read like instructions never reach a prompt or an email."""

from __future__ import annotations

from outreach.drafting.briefs import FactRef


def fact_is_usable(fact: FactRef) -> bool:
    """Read after folding look-alikes (a Cyrillic letter, a zero-width space), and with
    role-play and encoded blobs the shared filter does not know about."""
    from leads.extraction.safety import looks_like_instructions
    from leads.names import normalize_text
    from outreach.drafting.grounding import fact_source, looks_hostile

    text = normalize_text(fact_source(fact))
    return not (looks_like_instructions(text) or looks_hostile(text))


def usable_facts(facts: tuple[FactRef, ...]) -> tuple[FactRef, ...]:
    return tuple(fact for fact in facts if fact_is_usable(fact))
