"""Each lead's last activity from what already happened: its latest sent email, reply and
outcome. Three set-based updates, each keeping the later of what is there and what it
brings (COALESCE first: SQLite's MAX() of a NULL is NULL). Then, on PostgreSQL, the
indexes the list reads "latest first" and "best first" from (see Lead.Meta)."""

from django.db import migrations
from django.db.models import Exists, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest


def backfill(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    Message = apps.get_model("outreach", "Message")
    Reply = apps.get_model("outreach", "Reply")
    Outcome = apps.get_model("outreach", "Outcome")
    sources = [
        (Message._default_manager.filter(sent_at__isnull=False), "enrollment__lead", "sent_at"),
        (Reply._default_manager.all(), "lead", "received_at"),
        (Outcome._default_manager.all(), "lead", "occurred_at"),
    ]
    for rows, lead_path, moment in sources:
        mine = rows.filter(**{lead_path: OuterRef("pk")}).order_by()
        latest = Subquery(mine.values(lead_path).annotate(at=Max(moment)).values("at")[:1])
        Lead._default_manager.filter(Exists(mine)).update(
            last_activity_at=Greatest(Coalesce(F("last_activity_at"), latest), latest)
        )


INDEXES = {
    "lead_ws_last_activity": "last_activity_at DESC NULLS LAST, id DESC",
    "lead_ws_score_best": "score DESC NULLS LAST, id DESC",
}


def indexes_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, columns in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON leads_lead "
                f"(workspace_id, {columns})"
            )


def indexes_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # Not one transaction: the indexes are built CONCURRENTLY, so a million-lead table keeps
    # taking writes while it is, and each backfill UPDATE commits on its own.
    atomic = False

    dependencies = [
        ("leads", "0009_lead_activity_and_tags"),
        ("outreach", "0008_campaign_verifier_fields"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(indexes_create, indexes_drop),
    ]
