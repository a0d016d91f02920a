"""Text on web pages that tries to talk to a model. We keep it as data and never obey it."""

from __future__ import annotations

import re

_INSTRUCTION_RE = re.compile(
    r"(?i)\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|"
    r"all|your)\b[^.\n]{0,20}\b(?:instructions?|prompts?|rules|directions)\b"
    r"|\byou are now\b|\bsystem prompt\b|\bnew instructions\b|\bact as (?:an?|the)\b"
    r"|\bas an ai (?:language )?model\b"
    r"|\b(?:assistant|ai|llm|chatgpt|model)\s*[:,]\s*(?:write|say|tell|reply)\b"
    r"|<\|?(?:system|im_start|im_end)\|?>|\[/?(?:inst|system)\]"
)


def looks_like_instructions(text: str) -> bool:
    """True for text that addresses a language model ("ignore previous instructions")."""
    return bool(text) and _INSTRUCTION_RE.search(text[:20_000]) is not None
