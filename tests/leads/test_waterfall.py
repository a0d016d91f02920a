"""The waterfall picks each company field from its facts and explains the pick."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.waterfall import company_fields_apply
from tests.factories import CompanyFactory, FactFactory


@pytest.fixture
def company(workspace):
    return CompanyFactory(workspace=workspace, name="", domain="acme.example")


def fact(
    company,
    field,
    value,
    *,
    kind="website",
    extractor="meta",
    confidence=0.5,
    age_days=0,
    url="https://acme.example/",
):
    return FactFactory(
        workspace=company.workspace,
        company=company,
        field=field,
        value=value,
        source_kind=kind,
        extractor=extractor,
        confidence=confidence,
        source_url=url,
        observed_at=timezone.now() - timedelta(days=age_days),
    )


def test_structured_data_beats_text_heuristics_and_the_loser_is_kept(company):
    fact(company, "name", "Acme | Home", extractor="meta", confidence=0.6)
    winner = fact(
        company,
        "name",
        "Acme Robotics",
        kind="structured",
        extractor="jsonld",
        confidence=0.9,
        url="https://acme.example/about",
    )

    company_fields_apply(company=company)

    assert company.name == "Acme Robotics"
    source = company.field_sources["name"]
    assert source["fact"] == str(winner.pk)
    assert source["source"] == "https://acme.example/about"
    assert source["alternatives"] == 1
    assert "'Acme | Home'" in source["why"]
    assert company.facts.filter(field="name").count() == 2


def test_a_value_a_person_supplied_beats_scraped_ones(company):
    fact(company, "industry", "Robotics", kind="structured", extractor="jsonld", confidence=0.95)
    fact(
        company,
        "industry",
        "Warehouse automation",
        kind="supplied",
        extractor="supplied",
        confidence=0.9,
    )

    company_fields_apply(company=company)

    assert company.industry == "Warehouse automation"
    assert "supplied" in company.field_sources["industry"]["why"]


def test_among_equals_the_more_confident_then_the_newer_wins(company):
    fact(company, "phone", "+14155550100", extractor="contacts", confidence=0.7, age_days=30)
    fact(company, "phone", "+14155550199", extractor="contacts", confidence=0.7, age_days=1)
    fact(company, "description", "Old words", confidence=0.4)
    fact(company, "description", "Sharper words", confidence=0.8, age_days=60)

    company_fields_apply(company=company)

    assert company.phone == "+14155550199"
    assert company.description == "Sharper words"


def test_list_fields_merge_across_sources(company):
    fact(company, "tech", "HubSpot", extractor="tech")
    fact(company, "tech", "Stripe.js", extractor="tech", url="https://acme.example/pricing")
    fact(
        company,
        "social",
        {"network": "linkedin", "url": "https://linkedin.com/company/acme"},
        extractor="socials",
    )
    fact(
        company,
        "social",
        {"network": "linkedin", "url": "https://www.linkedin.com/company/acme-inc"},
        kind="structured",
        extractor="jsonld",
    )
    fact(company, "email", "sales@acme.example", extractor="contacts")

    company_fields_apply(company=company)

    assert company.tech_stack == ["HubSpot", "Stripe.js"]
    assert company.socials == {"linkedin": "https://www.linkedin.com/company/acme-inc"}
    assert company.contact_emails == ["sales@acme.example"]


def test_counts_that_are_not_numbers_do_not_break_the_company(company):
    fact(company, "employee_count", "about fifty", kind="structured", extractor="jsonld")
    company_fields_apply(company=company)
    assert company.employee_count is None


def test_values_longer_than_the_column_are_cut_not_rejected(company):
    fact(company, "name", "N" * 500, kind="structured", extractor="jsonld")
    company_fields_apply(company=company)
    company.save()
    assert len(company.name) == 200


def test_some_fields_have_their_own_order_of_sources(company):
    fact(
        company, "description", "Robots.", kind="structured", extractor="opengraph", confidence=0.7
    )
    fact(
        company,
        "description",
        "Autonomous pallet movers for mid-size warehouses.",
        kind="website",
        extractor="meta",
        confidence=0.6,
    )
    company_fields_apply(company=company)
    assert company.description == "Autonomous pallet movers for mid-size warehouses."
    assert company.field_sources["description"]["extractor"] == "meta"
