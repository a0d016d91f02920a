"""Open roles, their departments, and "hiring" as a signal (hiring sales above all)."""

from __future__ import annotations

import datetime
import re
from collections import Counter

from leads.extraction.page import Page, clean
from leads.extraction.types import ExtractedSignal, ExtractedValue

DEPARTMENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "sales",
        re.compile(
            r"\b(?:sales|account executive|\bAE\b|SDR|BDR|business development|"
            r"account manager|revenue|partnerships)\b",
            re.I,
        ),
    ),
    (
        "customer_success",
        re.compile(
            r"\b(?:customer success|support|customer experience|"
            r"implementation|onboarding)\b",
            re.I,
        ),
    ),
    (
        "marketing",
        re.compile(
            r"\b(?:marketing|growth|brand|content|seo|demand gen|"
            r"communications|pr)\b",
            re.I,
        ),
    ),
    ("data", re.compile(r"\b(?:data|analytics|machine learning|\bML\b|\bAI\b|scientist)\b", re.I)),
    (
        "engineering",
        re.compile(
            r"\b(?:engineer|developer|devops|sre|software|backend|frontend|"
            r"full[- ]stack|firmware|hardware|qa|architect)\b",
            re.I,
        ),
    ),
    ("product", re.compile(r"\b(?:product manager|product owner|head of product|product)\b", re.I)),
    ("design", re.compile(r"\b(?:designer|design|ux|ui)\b", re.I)),
    ("finance", re.compile(r"\b(?:finance|accountant|controller|fp&a|bookkeeper|cfo)\b", re.I)),
    ("people", re.compile(r"\b(?:recruiter|talent|people|hr|human resources)\b", re.I)),
    ("legal", re.compile(r"\b(?:legal|counsel|compliance|paralegal)\b", re.I)),
    (
        "operations",
        re.compile(
            r"\b(?:operations|ops|logistics|supply chain|warehouse|"
            r"office manager|technician)\b",
            re.I,
        ),
    ),
]
_ROLE_WORD = re.compile(
    r"\b(?:engineer|developer|manager|executive|representative|designer|analyst|specialist|"
    r"director|head|lead|scientist|architect|coordinator|associate|officer|consultant|intern|"
    r"recruiter|technician|administrator|writer|marketer|VP|SDR|BDR|AE|owner|partner|"
    r"accountant|counsel|strategist)\b",
    re.I,
)
_JOB_CONTAINER = re.compile(r"job|position|opening|role|vacanc|career", re.I)
MAX_ROLES = 100


def department_of(title: str) -> str:
    return next((name for name, pattern in DEPARTMENTS if pattern.search(title)), "")


def extract_careers(
    page: Page, job_postings: list[dict], page_kind: str
) -> tuple[list[ExtractedValue], list[ExtractedSignal]]:
    roles = [_posting_role(p) for p in job_postings]
    if page_kind == "careers":
        known = {r["title"].lower() for r in roles}
        roles += [r for r in _listed_roles(page) if r["title"].lower() not in known]
    roles = [r for r in roles if r["title"]][:MAX_ROLES]
    if not roles:
        return [], []
    values = [
        ExtractedValue("open_role", role, role.pop("evidence"), 0.75, "careers") for role in roles
    ]
    values.append(
        ExtractedValue(
            "open_roles_count",
            len(roles),
            f"{len(roles)} open roles listed on {page.url}",
            0.7,
            "careers",
        )
    )
    return values, [_hiring_signal(page, roles)]


def _posting_role(posting: dict) -> dict:
    title = clean(str(posting.get("title") or posting.get("name") or ""), 150)
    location = posting.get("jobLocation")
    if isinstance(location, list):
        location = location[0] if location else None
    if isinstance(location, dict):
        address = location.get("address") or {}
        location = address.get("addressLocality") if isinstance(address, dict) else address
    return {
        "title": title,
        "department": department_of(title),
        "location": clean(str(location or ""), 100),
        "posted": str(posting.get("datePosted") or "")[:10],
        "evidence": f"JobPosting: {title}",
    }


def _listed_roles(page: Page) -> list[dict]:
    """Job titles in job-list markup: headings and links inside containers named like jobs."""
    roles: dict[str, dict] = {}
    for container in page.soup.find_all(class_=_JOB_CONTAINER):
        for tag in container.find_all(["h2", "h3", "h4", "a", "li"], limit=200):
            title = clean(tag.get_text(" "), 150)
            if _looks_like_title(title) and title.lower() not in roles:
                roles[title.lower()] = {
                    "title": title,
                    "department": department_of(title),
                    "location": "",
                    "posted": "",
                    "evidence": clean(container.get_text(" "), 300),
                }
    return list(roles.values())


def _looks_like_title(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 8 and bool(_ROLE_WORD.search(text)) and not text.endswith((".", "?"))


def _hiring_signal(page: Page, roles: list[dict]) -> ExtractedSignal:
    departments = Counter(r["department"] or "other" for r in roles)
    sales = [r["title"] for r in roles if r["department"] == "sales"]
    title = f"Hiring for {len(roles)} open role{'s' if len(roles) != 1 else ''}"
    if sales:
        title += f", including {len(sales)} in sales"
    dates = [r["posted"] for r in roles if r.get("posted")]
    return ExtractedSignal(
        kind="hiring",
        title=title,
        happened_on=_latest(dates),
        amount=None,
        currency="",
        details={"roles": len(roles), "departments": dict(departments), "sales_roles": sales},
        evidence="; ".join(r["title"] for r in roles[:10])[:300],
        confidence=0.75,
    )


def _latest(dates: list[str]) -> datetime.date | None:
    parsed = []
    for value in dates:
        try:
            parsed.append(datetime.date.fromisoformat(value))
        except ValueError:
            continue
    return max(parsed) if parsed else None
