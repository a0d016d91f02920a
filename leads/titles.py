"""Seniority and department from a job title. Table-driven: the first rule that matches wins."""

from __future__ import annotations

import re

from leads.models import Lead

S = Lead.Seniority
# "President", but not the one in "Vice President" (a VP, not the company's head).
_PRESIDENT = r"(?<!vice )(?<!vice-)president"
# Order matters: "VP" before "manager" so "VP, Product Manager Group" is a VP.
SENIORITY_RULES: list[tuple[str, str]] = [
    (S.FOUNDER, r"\b(?:co-?founder|founder|owner|proprietor)\b"),
    (
        S.C_LEVEL,
        r"\b(?:ceo|cto|cfo|coo|cro|cmo|cpo|cio|ciso|cdo|chief [a-z ]+ officer|chief|"
        rf"{_PRESIDENT}|managing director|general manager)\b",
    ),
    (S.VP, r"\b(?:vp|svp|evp|avp|vice[- ]president)\b"),
    (S.HEAD, r"\bhead of\b|\bhead\b"),
    (S.DIRECTOR, r"\b(?:director|dir\.)\b"),
    (S.MANAGER, r"\b(?:manager|mgr|team lead|lead)\b"),
    (S.SENIOR, r"\b(?:senior|sr\.?|principal|staff|lead)\b"),
    (
        S.ENTRY,
        r"\b(?:intern|junior|jr\.?|associate|assistant|representative|specialist|"
        r"analyst|engineer|developer|designer|coordinator|executive|sdr|bdr|ae)\b",
    ),
]
DEPARTMENT_RULES: list[tuple[str, str]] = [
    (
        "sales",
        r"\b(?:sales|account executive|ae|sdr|bdr|business development|"
        r"account manager|revenue|cro|partnerships|commercial)\b",
    ),
    (
        "marketing",
        r"\b(?:marketing|growth|brand|content|demand gen(?:eration)?|cmo|seo|"
        r"communications|pr)\b",
    ),
    (
        "customer_success",
        r"\b(?:customer success|customer experience|support|"
        r"implementation|onboarding|account management)\b",
    ),
    ("data", r"\b(?:data|analytics|machine learning|ml|ai|bi)\b"),
    (
        "engineering",
        r"\b(?:engineer(?:ing)?|developer|devops|sre|software|cto|it|"
        r"infrastructure|security|ciso|architect)\b",
    ),
    ("design", r"\b(?:design(?:er)?|ux|ui)\b"),
    ("product", r"\b(?:product|cpo)\b"),
    ("finance", r"\b(?:finance|financial|cfo|controller|accounting|accountant|fp&a|treasury)\b"),
    ("people", r"\b(?:people|hr|human resources|talent|recruit(?:er|ing)|chro)\b"),
    ("legal", r"\b(?:legal|counsel|compliance|gc)\b"),
    (
        "operations",
        r"\b(?:operations|ops|coo|logistics|supply chain|procurement|warehouse|"
        r"facilities|fulfil?ment)\b",
    ),
    (
        "executive",
        rf"\b(?:ceo|founder|co-?founder|{_PRESIDENT}|owner|managing director|"
        r"general manager)\b",
    ),
]
_SENIORITY = [(value, re.compile(pattern, re.I)) for value, pattern in SENIORITY_RULES]
_DEPARTMENT = [(value, re.compile(pattern, re.I)) for value, pattern in DEPARTMENT_RULES]


def title_classify(title: str) -> tuple[str, str]:
    """("vp", "sales") for "VP of Sales"; ("", "") when the title says nothing we know."""
    text = (title or "").replace("&", " and ")
    seniority = next((value for value, rule in _SENIORITY if rule.search(text)), "")
    department = next((value for value, rule in _DEPARTMENT if rule.search(text)), "")
    return str(seniority), department
