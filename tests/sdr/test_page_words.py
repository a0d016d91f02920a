"""Every web page, in a populated workspace (issue 14), speaks in words: no stored choice
value (`pending_review`, `meeting_booked`, `customer_success`) and no draft check id
(`not_near_duplicate`) shows as text a seller reads; and costs a number of queries that
does not grow with the rows it shows. Pages come from the URL resolver, so a new page is
checked without an edit here."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sdr.templatetags.display import CHECKS
from tests.factories import workspace_populate
from tests.sdr.isolation_walk import response_text, routes, world_build

# Text a seller reads as code: code samples, keys and the API's own words.
CODE_TAGS = ["script", "style", "code", "pre", "kbd", "textarea"]


def internal_words() -> set[str]:
    """Every choice value of our models that a person would not write (it has an
    underscore), and every check id."""
    values = set(CHECKS)
    for model in apps.get_models():
        if model.__module__.split(".")[0] not in {"leads", "outreach", "ranking", "billing", "sdr"}:
            continue
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "choices", None) or []:
                if isinstance(value, str) and "_" in value:
                    values.add(value)
    return values


def visible_text(html: str) -> str:
    soup = BeautifulSoup(html, "lxml")
    for tag in soup(CODE_TAGS):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


@pytest.fixture
def world(db):
    return world_build()


def test_no_page_shows_an_internal_word(world):
    words = internal_words()
    assert {"pending_review", "meeting_booked", "not_near_duplicate"} <= words
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, words))) + r")\b")
    found: dict[str, set[str]] = {}
    checked = []
    for route in routes():
        if route.is_api or route.has_format_suffix:
            continue
        url = world.url(route, "a")
        response = world.session.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        checked.append(route.name)
        hits = set(pattern.findall(visible_text(response_text(response))))
        if hits:
            found[url] = hits
    assert not found, f"Internal words on pages: {found}"
    # The walk reached the pages where ids used to show (a broken walk passes nothing).
    assert {"dashboard", "lead-detail", "message-review", "reply-detail", "billing"} <= set(
        checked
    ), checked


def test_the_check_sees_a_word_in_text_but_not_in_code():
    page = "<p>Status: pending_review</p><code>meeting_booked</code><pre>no_response</pre>"
    assert visible_text(page) == "Status: pending_review"


def test_no_page_runs_more_queries_for_more_rows(world):
    """Every web page without an id costs the same number of queries with one set of rows
    as with three (issue 14: lists at 100,000 leads answer in a bounded number of queries;
    a query per row would show here as a count that grows)."""

    def counts() -> dict[str, int]:
        seen = {}
        for route in routes():
            if route.is_api or route.has_format_suffix or route.kwargs:
                continue
            url = world.url(route, "a")
            world.session.get(url)  # first: once-a-minute writes, caches
            with CaptureQueriesContext(connection) as queries:
                response = world.session.get(url)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                seen[url] = len(queries)
        return seen

    before = counts()
    for tag in ["charlie", "delta"]:
        workspace_populate(world.a, tag=tag, member=False, api_key=False)
    after = counts()
    assert len(before) >= 15, before
    grown = {url: (before[url], after[url]) for url in before if after[url] != before[url]}
    assert not grown, f"Pages whose queries grew with their rows (before, after): {grown}"


def test_a_moment_reads_as_how_long_ago_to_its_largest_unit():
    from datetime import timedelta

    from django.utils import timezone

    from sdr.templatetags.display import ago

    now = timezone.now()
    assert ago(now - timedelta(seconds=20)) == "just now"
    assert ago(now - timedelta(days=3, hours=5)) == "3\xa0days ago"
    assert ago(None) == ""
