"""Seniority and department read from a job title as a seller would read it."""

from __future__ import annotations

import importlib

import pytest

from leads.titles import title_classify


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("VP of Sales", ("vp", "sales")),
        ("Vice President of Sales", ("vp", "sales")),
        ("Senior Vice President, Operations", ("vp", "operations")),
        ("Vice-President Marketing", ("vp", "marketing")),
        ("Executive Vice President", ("vp", "")),
        ("President", ("c_level", "executive")),
        ("President & CEO", ("c_level", "executive")),
        ("Co-Founder & CTO", ("founder", "engineering")),
        ("Head of People", ("head", "people")),
        ("VP, Product Manager Group", ("vp", "product")),
        ("Sr. Data Analyst", ("senior", "data")),
        ("", ("", "")),
    ],
)
def test_titles_are_read_as_a_seller_reads_them(title, expected):
    assert title_classify(title) == expected


def test_the_migration_reads_vice_presidents_misread_as_presidents_again(workspace):
    from django.apps import apps

    from leads.models import Lead
    from tests.factories import LeadFactory

    reclassify = importlib.import_module(
        "leads.migrations.0011_import_warnings"
    ).vice_presidents_reclassify
    vp = LeadFactory(workspace=workspace, title="Vice President of Sales")
    president = LeadFactory(workspace=workspace, title="President")
    Lead.objects.for_workspace(workspace).update(seniority="c_level", department="executive")

    reclassify(apps, None)

    read = dict(Lead.objects.for_workspace(workspace).values_list("pk", "seniority"))
    assert (read[vp.pk], read[president.pk]) == ("vp", "c_level")
