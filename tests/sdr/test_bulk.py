"""Many rows updated with their own values in one statement, as Django's bulk_update."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DataError

from leads.models import Lead
from outreach.models import Message
from sdr.bulk import rows_update
from tests.factories import LeadFactory, MailboxFactory, MessageFactory


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
