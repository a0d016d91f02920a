"""Extraction of what makes a reason to write: open roles and hiring, people and their
titles, funding rounds, launches and leadership changes, each with its date and evidence."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from leads.extraction import extract_page
from leads.extraction.careers import department_of

ROOT = Path(__file__).resolve().parents[2]
SITES = ROOT / "leads" / "demo_sites"
FIXTURES = ROOT / "tests" / "sites"


def values(result, field_name):
    return [v.value for v in result.values if v.field == field_name]


def site_page(site: str, path: str):
    return extract_page((SITES / site / path).read_text(), url=f"https://{site}.example/{path}")


def signal(result, kind):
    return next(s for s in result.signals if s.kind == kind)


# --- careers --------------------------------------------------------------------------


def test_a_careers_page_counts_its_roles_and_flags_sales_hiring():
    result = site_page("northwind-robotics", "careers.html")
    assert values(result, "open_roles_count") == [6]
    hiring = signal(result, "hiring")
    assert hiring.title == "Hiring for 6 open roles, including 2 in sales"
    assert hiring.details["sales_roles"] == [
        "Account Executive, Benelux",
        "Sales Development Representative",
    ]
    assert hiring.details["departments"] == {
        "sales": 2,
        "engineering": 1,
        "operations": 1,
        "design": 1,
        "data": 1,
    }
    assert hiring.details["ats"] == ["Greenhouse"]
    assert hiring.happened_on == datetime.date(2026, 11, 2)  # the JobPosting's datePosted


def test_a_job_posting_gives_the_role_its_location_with_structured_confidence():
    result = site_page("northwind-robotics", "careers.html")
    posted = next(
        v for v in result.values if v.field == "open_role" and v.source_kind == "structured"
    )
    assert posted.value == {
        "title": "Account Executive, Benelux",
        "department": "sales",
        "location": "Rotterdam, NL",
    }
    assert posted.extractor == "careers" and "JobPosting" in posted.evidence


def test_roles_linked_to_an_applicant_tracking_system_are_read_with_their_labels():
    result = site_page("harbor-health-analytics", "careers.html")
    assert values(result, "open_role") == [
        {"title": "Clinical Data Analyst", "department": "data", "location": "Boston, MA"},
        {
            "title": "Implementation Specialist",
            "department": "customer_success",
            "location": "Remote (US)",
        },
        {
            "title": "Account Executive, Health Systems",
            "department": "sales",
            "location": "Boston, MA",
        },
        {"title": "Senior Python Engineer", "department": "engineering", "location": "Remote (US)"},
    ]
    assert signal(result, "hiring").details["ats"] == ["Lever"]


def test_a_jobs_page_grouped_by_department_counts_roles_not_group_headings():
    result = site_page("lumen-ledger", "jobs.html")
    titles = [role["title"] for role in values(result, "open_role")]
    assert titles == [
        "Enterprise Account Executive",
        "Business Development Representative",
        "Senior Backend Engineer",
        "Customer Success Manager",
    ]
    assert signal(result, "hiring").details["sales_roles"] == titles[:2]


def test_headings_on_other_pages_are_not_open_roles():
    html = """<body><nav><a href="/careers">Careers</a></nav><div class="roles">
      <h3>Senior Engineer</h3></div><h2>Product Manager tips</h2></body>"""
    result = extract_page(html, url="https://acme.example/blog/tips")
    assert values(result, "open_role") == [] and result.signals == []


def test_job_list_markup_outside_the_list_and_in_navigation_is_ignored():
    html = """<body><header><nav class="jobs-nav">
      <a href="/jobs/engineering">Engineering Manager</a>
      </nav></header><h1>Careers</h1><p>Our team lead says hi.</p>
      <ul class="job-openings"><li>Head of Sales</li><li>View all jobs</li></ul></body>"""
    result = extract_page(html, url="https://acme.example/careers")
    assert [role["title"] for role in values(result, "open_role")] == ["Head of Sales"]


@pytest.mark.parametrize(
    ("title", "department"),
    [
        ("SDR", "sales"),
        ("Enterprise AE (EMEA)", "sales"),
        ("Account Executive", "sales"),
        ("VP of Sales", "sales"),
        ("Sales Engineer", "sales"),
        ("Revenue Operations Manager", "sales"),
        ("Customer Success Manager", "customer_success"),
        ("Product Designer", "design"),
        ("Product Marketing Manager", "marketing"),
        ("Senior Product Manager", "product"),
        ("Data Engineer", "data"),
        ("Staff Backend Engineer", "engineering"),
        ("Financial Controller", "finance"),
        ("Talent Partner", "people"),
        ("Legal Counsel", "legal"),
        ("Warehouse Operations Lead", "operations"),
        ("Chief Happiness Wizard", ""),
    ],
)
def test_departments_are_guessed_from_job_titles(title, department):
    assert department_of(title) == department


# --- team -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "page", "expected"),
    [
        (
            "northwind-robotics",
            "team.html",
            {
                "Amira Haddad": "CEO & Co-founder",
                "Priya Nair": "VP Sales",
                "Tom Becker": "CTO & Co-founder",
                "Jonas Lindqvist": "Head of Marketing",
                "Grace O'Neill": "Director of Customer Success",
            },
        ),
        (
            "lumen-ledger",
            "people.html",
            {"Marc Dubois": "Chief Revenue Officer", "Ruth Adeyemi": "CEO"},
        ),
        (
            "harbor-health-analytics",
            "team.html",
            {"Kevin Brooks": "Director of Sales", "Daniel Cho": "Founder and CEO"},
        ),
    ],
)
def test_team_pages_yield_people_with_titles(site, page, expected):
    people = {p.name: p.title for p in site_page(site, page).people}
    assert expected.items() <= people.items()
    assert 4 <= len(people) <= 6


def test_person_cards_in_many_markups_yield_people_and_only_people():
    result = extract_page(
        (FIXTURES / "team.html").read_text(), url="https://quillmate.example/company/team"
    )
    people = {p.name: p for p in result.people}
    assert {name: p.title for name, p in people.items()} == {
        "Hiroshi Tanaka": "Chief Financial Officer",  # JSON-LD Person
        "Ana Souza": "Co-founder & CEO",  # card: h3 + p
        "Benjamin Osei": "Chief Technology Officer",  # "Dr." dropped
        "Chloé Dubois": "VP of Sales",  # h4 with the title in <small>
        "Devika Iyer": "Head of Marketing",  # figcaption "Name — Title"
        "Marcus van der Berg": "Board Member, Partner at Canal Capital",
        "Eleanor Whitfield": "Independent Board Director",
    }
    assert people["Ana Souza"].linkedin_url == "https://www.linkedin.com/in/anasouza"
    assert people["Ana Souza"].email == "ana@quillmate.example"
    assert people["Hiroshi Tanaka"].linkedin_url == "https://www.linkedin.com/in/hiroshi-tanaka-cfo"
    assert people["Chloé Dubois"].linkedin_url == "https://www.linkedin.com/in/chloe-dubois-sales"
    # In a flat list a link belongs to the person above it, not to everyone in the list.
    assert people["Marcus van der Berg"].linkedin_url == "https://www.linkedin.com/in/marcusvdberg"
    assert people["Eleanor Whitfield"].linkedin_url == ""
    assert all(p.evidence and len(p.evidence) <= 300 for p in result.people)


def test_people_are_not_read_from_cards_on_other_pages():
    html = "<body><div><h3>Jane Doe</h3><p>Head of Growth</p></div></body>"
    assert extract_page(html, url="https://acme.example/blog/post").people == []
    assert [p.name for p in extract_page(html, url="https://acme.example/about").people] == [
        "Jane Doe"
    ]


# --- press ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headline", "amount", "currency", "round_name", "investors"),
    [
        (
            "Acme raised $20M in Series B funding led by Blue Ventures",
            20_000_000,
            "USD",
            "Series B",
            ["Blue Ventures"],
        ),
        ("Acme closes €5 million seed round", 5_000_000, "EUR", "Seed", []),
        ("Acme secures £1.5m in funding from Kite Capital", 1_500_000, "GBP", "", ["Kite Capital"]),
        ("Acme announced a $8.5M Series A", 8_500_000, "USD", "Series A", []),
        ("Acme closes $1.2B Series D", 1_200_000_000, "USD", "Series D", []),
        (
            "Acme lands USD 750K pre-seed round co-led by Ann Lee and Bo Chan",
            750_000,
            "USD",
            "Pre-Seed",
            ["Ann Lee", "Bo Chan"],
        ),
        ("Acme raises 12 million euros Series A", 12_000_000, "EUR", "Series A", []),
    ],
)
def test_funding_announcements_in_many_phrasings(headline, amount, currency, round_name, investors):
    html = (
        f"<body><article><h2>{headline}</h2><time datetime='2026-03-03'>x</time>"
        f"<p>More text.</p></article></body>"
    )
    funding = signal(extract_page(html, url="https://acme.example/press"), "funding")
    assert (funding.amount, funding.currency) == (Decimal(amount), currency)
    assert isinstance(funding.amount, Decimal)
    assert funding.details == {"round": round_name, "investors": investors}
    assert funding.happened_on == datetime.date(2026, 3, 3)


def test_a_press_page_tells_funding_launches_leaders_and_news_apart():
    result = extract_page(
        (FIXTURES / "press.html").read_text(), url="https://fernhill.example/press"
    )
    kinds = [(s.kind, s.happened_on) for s in result.signals]
    assert kinds == [
        ("funding", datetime.date(2026, 9, 15)),
        ("funding", datetime.date(2025, 3, 3)),  # "Published 3 March 2025" in the text
        ("product_launch", datetime.date(2026, 6, 1)),
        ("leadership_change", datetime.date(2026, 7, 8)),
        ("leadership_change", datetime.date(2026, 8, 19)),
        ("news", datetime.date(2026, 10, 2)),
    ]  # the undated blog post is not a signal


def test_a_story_told_in_json_ld_and_html_is_one_signal_with_what_both_know():
    result = extract_page(
        (FIXTURES / "press.html").read_text(), url="https://fernhill.example/press"
    )
    series_b = result.signals[0]
    assert series_b.title == "Fernhill Labs raises $20M in Series B funding led by Acme Ventures"
    assert series_b.amount == 20_000_000  # not the "$5B" market size later in the text
    assert series_b.details["investors"] == [
        "Acme Ventures",
        "Birch Partners",
        "Cedar Fund",
        "Delta Angels",
    ]
    assert "led by Acme Ventures" in series_b.evidence and series_b.confidence >= 0.8
    seed = result.signals[1]
    assert (seed.amount, seed.currency, seed.details["investors"]) == (
        5_000_000,
        "EUR",
        ["Oakstone Capital"],
    )


def test_leadership_changes_name_the_person_and_the_role():
    result = extract_page(
        (FIXTURES / "press.html").read_text(), url="https://fernhill.example/press"
    )
    leaders = [s.details for s in result.signals if s.kind == "leadership_change"]
    assert leaders == [
        {"person": "Sarah Kim", "role": "Chief Revenue Officer"},
        {"person": "Peter Hale", "role": "CFO"},
    ]
    launch = signal(result, "product_launch")
    assert launch.details == {"product": "Fernhill Cloud"}


def test_the_demo_sites_press_pages_give_dated_signals():
    northwind = site_page("northwind-robotics", "press.html")
    funding = signal(northwind, "funding")
    assert (funding.amount, funding.currency, funding.happened_on) == (
        12_000_000,
        "USD",
        datetime.date(2026, 10, 14),
    )
    assert funding.details["investors"] == ["Harbor Ventures", "Kite Capital", "North Star Angels"]
    lumen = {s.kind: s for s in site_page("lumen-ledger", "news.html").signals}
    assert "Marc Dubois" in lumen["leadership_change"].title
    assert lumen["product_launch"].happened_on == datetime.date(2026, 11, 5)
    assert (lumen["funding"].amount, lumen["funding"].currency) == (18_000_000, "EUR")
    assert lumen["funding"].details["investors"][:2] == ["Atlas Capital", "Tagus Ventures"]
    harbor = site_page("harbor-health-analytics", "news/seed-round.html")
    assert signal(harbor, "funding").happened_on == datetime.date(2026, 5, 12)


def test_news_is_only_read_from_press_and_blog_pages():
    html = "<body><h2>Meet us at Expo 2026</h2><time datetime='2026-05-01'>May 1</time></body>"
    assert extract_page(html, url="https://acme.example/").signals == []
    assert [s.kind for s in extract_page(html, url="https://acme.example/news").signals] == ["news"]
    careers = "<body><h2>Acme raises $5M seed round</h2></body>"
    assert extract_page(careers, url="https://acme.example/careers").signals == []
