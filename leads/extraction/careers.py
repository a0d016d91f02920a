"""Open roles, their departments, and "hiring" as a signal (hiring in sales above all).

Roles come from JobPosting items on any page, from links to job pages on the usual
applicant-tracking systems, and on careers pages from job-list markup.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass

from leads.extraction import tech
from leads.extraction.items import Item, as_list, text_of
from leads.extraction.page import Page
from leads.extraction.text import clean, find_date
from leads.extraction.tree import Element, classes, strings, text
from leads.extraction.types import ExtractedSignal, ExtractedValue, Found

# Order matters: the first department whose words a title has wins, so "Sales Engineer"
# is sales, "Data Engineer" data, "Product Designer" design, "People Operations" people.
_DEPARTMENT_WORDS = (
    (
        "sales",
        r"sales|account executive|account manager|account director|business development"
        r"|revenue|partnerships?|pre-?sales|solutions? (?:engineer|consultant)"
        r"|(?-i:AEs?|SDRs?|BDRs?|CRO)",
    ),
    (
        "customer_success",
        r"customer success|customer support|support|customer experience"
        r"|implementation|onboarding|solutions? architect",
    ),
    ("design", r"designer|design|ux|ui|user research(?:er)?"),
    (
        "marketing",
        r"marketing|marketer|brand|content|seo|demand gen(?:eration)?|communications"
        r"|(?-i:PR)|social media|copywriter|events?",
    ),
    ("data", r"data|analytics|analyst|machine learning|(?-i:ML|AI)|scientist"),
    (
        "engineering",
        r"engineer(?:ing)?|developer|devops|sre|software|backend|frontend|full[- ]?stack"
        r"|firmware|hardware|robotics|qa|security|architect|(?-i:CTO)",
    ),
    ("product", r"product (?:manager|owner|lead|director)|head of product|product"),
    (
        "finance",
        r"finance|financial|accountant|accounting|controller|fp&a|bookkeeper|payroll"
        r"|(?-i:CFO)",
    ),
    ("people", r"recruit(?:er|ing)|talent|people|(?-i:HR)|human resources"),
    ("legal", r"legal|counsel|compliance|paralegal|privacy"),
    (
        "operations",
        r"operations|(?-i:ops)|logistics|supply chain|warehouse|office manager"
        r"|technician|field service|chief of staff|(?-i:COO)",
    ),
)
DEPARTMENTS = tuple(
    (name, re.compile(rf"\b(?:{words})\b", re.I)) for name, words in _DEPARTMENT_WORDS
)
_ROLE_WORD = re.compile(
    r"\b(?:engineer|developer|manager|executive|representative|designer|analyst|specialist"
    r"|director|head|lead|scientist|architect|coordinator|associate|officer|consultant|intern"
    r"|recruiter|technician|administrator|writer|marketer|strategist|accountant|counsel"
    r"|controller|advocate|researcher|editor|operator|assistant|partner|owner|president"
    r"|(?-i:VP|SDR|BDR|AE))\b",
    re.I,
)
_JOB_CONTAINER = re.compile(
    r"\b(?:jobs?|job-?list\w*|positions?|openings?|roles?|vacanc\w*|careers?|postings?)\b", re.I
)
_FIELD_CLASS = re.compile(r"location|department|team|type|meta|date|commitment|tag", re.I)
_LOCATION_CLASS = re.compile(r"location", re.I)
_DEPARTMENT_CLASS = re.compile(r"department|team", re.I)
_ATS_JOB = re.compile(
    r"^https?://(?:(?:job-)?boards\.greenhouse\.io/[^/]+/jobs/\d+|jobs\.lever\.co/[^/]+/[\w-]{8,}"
    r"|jobs\.ashbyhq\.com/[^/]+/[\w-]{8,}|apply\.workable\.com/[^/]+/j/\w+"
    r"|[\w-]+\.bamboohr\.com/(?:careers|jobs)/\S+)",
    re.I,
)
_CHROME = {"nav", "footer", "header"}
_LI_TITLES = ("a", "h2", "h3", "h4", "h5", "strong")
MAX_ROLES = 100
MAX_ANCESTORS = 8


@dataclass(frozen=True)
class Role:
    title: str
    department: str
    location: str
    posted: datetime.date | None
    evidence: str
    structured: bool = False

    def value(self) -> ExtractedValue:
        return ExtractedValue(
            "open_role",
            {"title": self.title, "department": self.department, "location": self.location},
            self.evidence,
            0.85 if self.structured else 0.7,
            "careers",
            "structured" if self.structured else "website",
        )


def department_of(title: str) -> str:
    """sales, customer_success, design, marketing, data, engineering, product, finance,
    people, legal, operations; "" when the title does not say."""
    return next((name for name, pattern in DEPARTMENTS if pattern.search(title)), "")


def extract(page: Page) -> Found:
    roles = [_posted_role(item) for _, item in page.items_of("jobposting")]
    roles += _ats_roles(page)
    if page.kind == "careers":
        roles += _listed_roles(page)
    unique: dict[str, Role] = {}
    for role in roles:  # the first reading of a title wins: JobPosting data is the richest
        if role.title:
            unique.setdefault(role.title.lower(), role)
    roles = list(unique.values())[:MAX_ROLES]
    if not roles:
        return Found()
    count = ExtractedValue(
        "open_roles_count",
        len(roles),
        f"{len(roles)} open roles listed on {page.url}"[:300],
        0.7,
        "careers",
    )
    return Found(values=[r.value() for r in roles] + [count], signals=[_hiring(page, roles)])


def _posted_role(posting: Item) -> Role:
    title = text_of(posting.get("title") or posting.get("name"), 150)
    category = text_of(posting.get("occupationalCategory"), 100)
    posted = text_of(posting.get("datePosted"), 40)
    location = _posting_location(posting)
    return Role(
        title=title,
        department=department_of(title) or department_of(category),
        location=location,
        posted=find_date(posted),
        evidence=clean(f"JobPosting: {title}; {location}; posted {posted or 'undated'}"),
        structured=True,
    )


def _posting_location(posting: Item) -> str:
    if "telecommute" in text_of(posting.get("jobLocationType")).lower():
        return "Remote"
    for place in as_list(posting.get("jobLocation")):
        address = place.get("address") if isinstance(place, dict) else place
        if isinstance(address, dict):
            parts = [text_of(address.get(k), 60) for k in ("addressLocality", "addressCountry")]
            return ", ".join(p for p in parts if p)
        if address:
            return text_of(address, 100)
    return ""


def _ats_roles(page: Page) -> list[Role]:
    """Links to job pages on an applicant-tracking system, titled by their text; an
    "Apply" button next to the title is not a role."""
    roles = [_role_from(anchor) for anchor, url in page.outlinks if _ATS_JOB.match(url)]
    return [r for r in roles if _looks_like_title(r.title) or r.department]


def _listed_roles(page: Page) -> list[Role]:
    """Job titles in job-list markup: headings, links and list items inside an element
    whose class or id names jobs ("open-positions", "job-list", "careers")."""
    roles = []
    for tag in page.find("h2", "h3", "h4", "h5", "a", "li"):
        if tag.tag == "li" and next(tag.iterdescendants(*_LI_TITLES), None) is not None:
            continue  # the link or heading inside carries the title
        if _in_job_list(tag) and _looks_like_title(_own_text(tag)):
            roles.append(_role_from(tag))
    return roles


def _in_job_list(tag: Element) -> bool:
    for depth, parent in enumerate(tag.iterancestors()):
        if depth > MAX_ANCESTORS or parent.tag in _CHROME:
            return False
        marker = classes(parent) + " " + str(parent.get("id") or "")
        if _JOB_CONTAINER.search(marker):
            return True
    return False


def _role_from(tag: Element) -> Role:
    parent = tag.getparent()
    card = parent if parent is not None and parent.tag in ("li", "div", "article") else tag
    title = _own_text(tag)
    label = _field(card, _DEPARTMENT_CLASS)
    return Role(
        title=title,
        department=department_of(title) or department_of(label),
        location=_field(card, _LOCATION_CLASS),
        posted=None,
        evidence=clean(text(card, " "), 300),
    )


def _own_text(tag: Element) -> str:
    """A tag's text without its location, department or date labels."""
    parts = [s for s, parent, _ in strings(tag) if not _labelled(parent, tag)]
    return clean(" ".join(parts), 150).strip(" -–—·|,")


def _labelled(parent: Element, tag: Element) -> bool:
    """Whether a string whose element is `parent` sits in a label inside `tag`."""
    for element in (parent, *parent.iterancestors()):
        if element is tag:
            return False
        if _FIELD_CLASS.search(classes(element)):
            return True
    return False


def _field(card: Element, pattern: re.Pattern[str]) -> str:
    found = next((e for e in card.iterdescendants() if _has_class(e, pattern)), None)
    return clean(text(found, " "), 100) if found is not None else ""


def _has_class(element: Element, pattern: re.Pattern[str]) -> bool:
    # BeautifulSoup's find(class_=pattern): an element with a class the pattern finds.
    words = classes(element) if isinstance(element.tag, str) else ""
    return bool(words) and pattern.search(words) is not None


def _looks_like_title(text: str) -> bool:
    words = text.split()
    return (
        1 <= len(words) <= 10
        and bool(_ROLE_WORD.search(text))
        and not text.endswith((".", "?", "!", ":"))
    )


def _hiring(page: Page, roles: list[Role]) -> ExtractedSignal:
    departments = Counter(r.department or "other" for r in roles)
    sales = [r.title for r in roles if r.department == "sales"]
    title = f"Hiring for {len(roles)} open role{'s' if len(roles) != 1 else ''}"
    if sales:
        title += f", including {len(sales)} in sales"
    ats = [name for name, _ in tech.technologies(page)[1] if name in tech.ATS]
    dates = [r.posted for r in roles if r.posted]
    return ExtractedSignal(
        kind="hiring",
        title=title,
        happened_on=max(dates) if dates else None,
        amount=None,
        currency="",
        details={
            "roles": len(roles),
            "departments": dict(departments),
            "sales_roles": sales,
            "ats": ats,
        },
        evidence=clean("Open roles: " + "; ".join(r.title for r in roles), 300),
        confidence=0.8 if any(r.structured for r in roles) else 0.7,
    )
