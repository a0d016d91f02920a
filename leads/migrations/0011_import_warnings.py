"""Rows imported with a value cut to fit are counted and kept with their warning; and
leads whose title holds "Vice President", which were read as the company's president
(C-level, executive), are read again as VPs."""

from django.db import migrations, models


def vice_presidents_reclassify(apps, schema_editor):
    from leads.titles import title_classify

    Lead = apps.get_model("leads", "Lead")
    misread = Lead._default_manager.filter(title__iregex=r"vice[- ]president").only(
        "title", "seniority", "department"
    )
    changed = []
    for lead in misread.iterator(chunk_size=2000):
        seniority, department = title_classify(lead.title)
        if (lead.seniority, lead.department) != (seniority, department):
            lead.seniority, lead.department = seniority, department
            changed.append(lead)
    Lead._default_manager.bulk_update(changed, ["seniority", "department"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_last_activity_and_sort_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="warning_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="importrowerror",
            name="kept",
            field=models.BooleanField(default=False, help_text="imported, with this warning"),
        ),
        migrations.RunPython(vice_presidents_reclassify, migrations.RunPython.noop),
    ]
