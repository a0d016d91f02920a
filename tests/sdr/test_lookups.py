"""`__any` finds exactly the rows `__in` finds, for every kind of column it is used on,
binding the values as one array on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads.models import Company, Lead
from tests.factories import CompanyFactory, LeadFactory


@pytest.fixture
def leads(workspace):
    companies = CompanyFactory.create_batch(3, workspace=workspace)
    return [
        LeadFactory(
            workspace=workspace,
            company=companies[i % 3],
            email=f"p{i}@c{i % 3}.example",
            external_id=f"crm-{i}" if i % 2 else "",
            status=[Lead.Status.NEW, Lead.Status.ACTIVE][i % 2],
        )
        for i in range(8)
    ]


def both(model, field: str, values) -> tuple[set, set]:
    rows = model.unscoped_objects
    return (
        set(rows.filter(**{f"{field}__any": values}).values_list("pk", flat=True)),
        set(rows.filter(**{f"{field}__in": values}).values_list("pk", flat=True)),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "pick"),
    [
        ("email", lambda leads: [lead.email for lead in leads[::2]] + ["nobody@x.example"]),
        ("external_id", lambda leads: ["crm-1", "crm-3", "crm-3", "crm-404"]),
        ("pk", lambda leads: [lead.pk for lead in leads[:3]] + [uuid.uuid4()]),
        ("pk", lambda leads: [str(lead.pk) for lead in leads[3:]]),  # ids as text
        ("company", lambda leads: [leads[0].company_id, None]),
        ("company_id", lambda leads: [str(leads[1].company_id)]),
        ("status", lambda leads: [Lead.Status.ACTIVE]),
    ],
)
def test_any_finds_what_in_finds(leads, field, pick):
    found_by_any, found_by_in = both(Lead, field, pick(leads))
    assert found_by_any == found_by_in
    assert found_by_any  # each case matches some rows, not only none


@pytest.mark.django_db
def test_any_binds_one_array_on_postgresql(leads):
    emails = [lead.email for lead in leads]
    with CaptureQueriesContext(connection) as queries:
        assert Lead.unscoped_objects.filter(email__any=emails).count() == len(leads)
    (query,) = queries.captured_queries
    if connection.vendor == "postgresql":
        assert "= ANY(" in query["sql"]
        assert query["sql"].count("@") == len(emails)  # the array's values, not placeholders
    else:
        assert " IN (" in query["sql"]


@pytest.mark.django_db
def test_any_with_nothing_to_match_finds_nothing_without_a_query(leads):
    with CaptureQueriesContext(connection) as queries:
        assert list(Lead.unscoped_objects.filter(email__any=[])) == []
        assert list(Lead.unscoped_objects.filter(company__any=[None])) == []
    assert queries.captured_queries == []


@pytest.mark.django_db
def test_any_takes_a_subquery_as_in_does(leads):
    companies = Company.unscoped_objects.filter(domain__any=[leads[0].company.domain])
    found = Lead.unscoped_objects.filter(company__any=companies.values("pk"))
    assert set(found) == {lead for lead in leads if lead.company_id == leads[0].company_id}
