"""Rate buckets in an UNLOGGED table on PostgreSQL.

Every API request updates its key's bucket, and a write to a logged table waits at commit
for the WAL to reach the disk: under load that wait was most of the bucket's cost. An
unlogged table writes no WAL, so its commits do not wait. What a crash loses (PostgreSQL
empties unlogged tables after one) is the buckets' state: every client starts with a full
bucket again, as after a minute's quiet. Standbys do not get the table; a promoted standby
starts with empty buckets, likewise.
"""

from django.db import migrations


def unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sdr_ratebucket SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sdr_ratebucket SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("sdr", "0010_api_key_scopes")]

    operations = [migrations.RunPython(unlogged, logged)]
