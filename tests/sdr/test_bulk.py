"""Many rows inserted or updated with their own values in one statement, as Django's bulk_create
and bulk_update."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, DataError, transaction

from leads.models import Company, Lead
from outreach.models import Message
from sdr import rls
from sdr.bulk import COPY_FROM, rows_insert, rows_update
from sdr.models import Activity
from tests.factories import (
    CompanyFactory,
    LeadFactory,
    MailboxFactory,
    MessageFactory,
    WorkspaceFactory,
)


def fresh(row):
    return type(row).unscoped_objects.get(pk=row.pk)


def test_each_row_gets_its_own_values_of_every_type(db, workspace):
    first, second, untouched = LeadFactory.create_batch(3, workspace=workspace, title="Buyer")
    first.title, first.custom_fields = "Head of Ops", {"region": "North", "size": 3}
    first.last_activity_at = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    first.score_reasons = [{"feature": "title", "weight": 0.4}, "Leeds"]
    second.title, second.custom_fields, second.last_activity_at = "", {}, None
    second.first_name = "Not written: not among the fields"

    rows_update(
        Lead, [first, second], ["title", "custom_fields", "last_activity_at", "score_reasons"]
    )

    first_now, second_now = fresh(first), fresh(second)
    assert (first_now.title, first_now.custom_fields, first_now.last_activity_at) == (
        "Head of Ops",
        {"region": "North", "size": 3},
        datetime(2026, 12, 7, 10, 0, tzinfo=UTC),
    )
    assert (second_now.title, second_now.custom_fields, second_now.last_activity_at) == (
        "",
        {},
        None,
    )
    assert first_now.score_reasons == [{"feature": "title", "weight": 0.4}, "Leeds"]
    assert second_now.first_name != "Not written: not among the fields"
    assert fresh(untouched).title == "Buyer"


def test_a_foreign_key_is_written_by_its_id(db, workspace):
    message = MessageFactory(workspace=workspace)
    mailbox = MailboxFactory(workspace=workspace)
    message.mailbox = mailbox

    rows_update(Message, [message], ["mailbox"])

    assert fresh(message).mailbox_id == mailbox.pk


def test_a_value_too_long_for_its_column_is_refused_not_cut(db, workspace):
    lead = LeadFactory(workspace=workspace)
    lead.phone = "1" * 41

    with pytest.raises(DataError):
        rows_update(Lead, [lead], ["phone"])


def test_no_rows_is_no_statement(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        rows_update(Lead, [], ["title"])


# --- inserts ----------------------------------------------------------------------------


def test_inserted_rows_keep_every_value_and_get_their_times(db, workspace):
    company = CompanyFactory(workspace=workspace)
    leads = [
        Lead(
            workspace=workspace,
            company=company if i % 2 else None,
            email=f"p{i}@acme.example",
            first_name=f"Zoë {i}",
            custom_fields={"row": i, "tags": ["a", "b"]} if i % 3 else {},
            score=0.5 if i % 5 else None,
        )
        for i in range(COPY_FROM + 5)
    ]

    rows_insert(Lead, leads)

    stored = {lead.email: lead for lead in Lead.unscoped_objects.filter(workspace=workspace)}
    assert len(stored) == len(leads)
    for lead in leads:
        row = stored[lead.email]
        assert (row.pk, row.company_id, row.first_name) == (
            lead.pk,
            lead.company_id,
            lead.first_name,
        )
        assert (row.custom_fields, row.score) == (lead.custom_fields, lead.score)
        assert row.created_at is not None and row.created_at == lead.created_at
    assert not leads[0]._state.adding


def test_a_row_of_another_workspace_is_refused_as_by_any_insert(db, workspace):
    other = WorkspaceFactory()
    rows = [Lead(workspace=other, email=f"p{i}@acme.example") for i in range(COPY_FROM)]

    with rls.workspace_scope(workspace), pytest.raises(DatabaseError), transaction.atomic():
        rows_insert(Lead, rows)

    assert not Lead.unscoped_objects.filter(workspace=other).exists()


@pytest.mark.parametrize("count", [3, COPY_FROM + 3], ids=["bulk_create", "copy"])
def test_ignoring_conflicts_skips_the_rows_a_unique_constraint_refuses(db, workspace, count):
    taken = CompanyFactory(workspace=workspace, domain="taken.example", name="First")
    rows = [Company(workspace=workspace, domain=f"c{i}.example") for i in range(count - 1)]
    rows.append(Company(workspace=workspace, domain="taken.example", name="Second"))

    rows_insert(Company, rows, ignore_conflicts=True)

    stored = dict(Company.unscoped_objects.filter(workspace=workspace).values_list("domain", "pk"))
    assert len(stored) == count
    assert stored["taken.example"] == taken.pk
    assert Company.unscoped_objects.get(pk=taken.pk).name == "First"
    assert all(stored[row.domain] == row.pk for row in rows[:-1])


def test_a_model_whose_keys_the_server_makes_is_refused(db):
    with pytest.raises(ValueError, match="keys are made by the server"):
        rows_insert(Activity, [])
