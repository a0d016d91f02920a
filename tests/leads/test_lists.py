"""The lead and company lists: same answers, bounded queries, keyset pages, the score."""

from __future__ import annotations

import importlib
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from leads.api import LEAD_JSON, CompanyOutput, LeadOutput
from leads.models import Company, Lead, Tag
from sdr.activity import activities_publish, activity_record
from sdr.api import ActivityOutput
from sdr.json_rows import JsonObject
from sdr.models import Activity, WorkspaceAPIKey
from tests.factories import (
    CompanyFactory,
    LeadFactory,
    MessageFactory,
    OutcomeFactory,
    ReplyFactory,
)

LEAD_LINK = re.compile(r'href="/leads/([0-9a-f-]{36})/"')
COMPANY_LINK = re.compile(r'href="/leads/companies/([0-9a-f-]{36})/"')
NEXT = re.compile(r'cursor=([^"&]+)" rel="next"')
PREVIOUS = re.compile(r'cursor=([^"&]+)" rel="prev"')


def leads_varied(workspace, count: int) -> list[Lead]:
    """Leads with and without a company, an address, a score and custom fields."""
    company = CompanyFactory(workspace=workspace, name="Northwind", domain="northwind.example")
    leads = []
    for i in range(count):
        leads.append(
            LeadFactory(
                workspace=workspace,
                company=company if i % 3 else None,
                email="" if i % 7 == 0 else f"p{i}@northwind.example",
                last_name=f"Name{i % 11:02d}",
                title=["CEO", "VP Sales", ""][i % 3],
                linkedin_url="" if i % 2 else f"https://www.linkedin.com/in/p{i}",
                custom_fields={"tier": i % 4} if i % 4 else {},
                score=None if i % 5 == 0 else round((i % 9) / 10, 2),
                score_reasons=[{"feature": "seniority", "weight": 0.3}] if i % 5 else [],
                score_basis="" if i % 5 == 0 else "profile",
                scored_at=None if i % 5 == 0 else timezone.now(),
                last_activity_at=None if i % 4 == 0 else timezone.now() - timedelta(hours=i % 13),
            )
        )
    return leads


def as_json(data: object) -> list[dict]:
    # As the client receives it: the renderer turns UUIDs and the like into strings.
    return json.loads(JSONRenderer().render(data))


# --- API ------------------------------------------------------------------------------


def test_the_leads_postgresql_writes_are_the_lead_serializers_json(workspace):
    leads = leads_varied(workspace, 30)
    for name in ["vip", "Warm intro", "Ärger"]:
        tag = Tag.objects.for_workspace(workspace).create(workspace=workspace, name=name)
        for lead in leads[:: {"vip": 2, "Warm intro": 3}.get(name, 5)]:
            lead.tags.add(tag, through_defaults={"workspace": workspace})
    # Timestamps on a whole second (no fraction written) and with a fraction; text that
    # JSON must escape.
    Lead.objects.for_workspace(workspace).filter(pk=leads[1].pk).update(
        created_at=timezone.now().replace(microsecond=0),
        first_name='Zoë "Z" \\ O\'Neil',
        custom_fields={"note": "line\nbreak", "nested": {"b": [1, 2.5, None], "a": True}},
    )
    scoped = Lead.objects.for_workspace(workspace).order_by("-created_at", "-id")
    written = [json.loads(row) for row in scoped.values_list(JsonObject(LEAD_JSON), flat=True)]
    full = as_json(LeadOutput(scoped.select_related("company"), many=True).data)
    assert written == full
    assert [list(row) for row in written] == [list(LeadOutput.Meta.fields)] * len(written)
    worn = {frozenset(row["tags"]) for row in written}
    assert frozenset({"vip", "Warm intro", "Ärger"}) in worn and frozenset() in worn
    assert {row["company"] is None for row in written} == {True, False}
    assert any(row["email"] is None for row in written) and any(row["score"] for row in written)
    assert any("." not in row["created_at"] for row in written)
    assert any("." in row["created_at"] for row in written)


def test_the_api_answers_in_json_only(api, workspace):
    leads_varied(workspace, 3)
    page = api.get("/api/v1/leads/", HTTP_ACCEPT="text/html,*/*;q=0.8")
    assert page["Content-Type"] == "application/json"
    assert page.json()["results"] == as_json(
        LeadOutput(
            Lead.objects.for_workspace(workspace).order_by("-created_at", "-id"), many=True
        ).data
    )
    # DRF's browsable pages were a server error for an API key.
    assert api.get("/api/v1/leads/?format=api").status_code == 404


def test_the_api_lead_list_pages_in_a_bounded_number_of_queries(
    api, workspace, django_assert_max_num_queries
):
    leads_varied(workspace, 60)
    with django_assert_max_num_queries(8):
        first = api.get("/api/v1/leads/?page_size=50").json()
    with django_assert_max_num_queries(8):
        second = api.get(first["next"]).json()
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 60


def test_the_score_is_in_the_api_and_the_crm_cannot_write_it(api, workspace):
    lead = LeadFactory(workspace=workspace, score=0.8, score_basis="model")
    body = api.get(f"/api/v1/leads/{lead.pk}/").json()
    assert body["score"] == 0.8 and body["score_basis"] == "model"
    assert set(body) >= {"score_reasons", "scored_at"}
    response = api.patch(
        f"/api/v1/leads/{lead.pk}/",
        {"title": "CTO", "score": 0.01, "score_basis": "profile"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.title, lead.score, lead.score_basis) == ("CTO", 0.8, "model")


def test_leads_by_score_best_first_and_within_a_range(api, workspace):
    leads_varied(workspace, 40)
    scored = Lead.objects.for_workspace(workspace).filter(score__isnull=False)
    seen, url = [], "/api/v1/leads/?ordering=-score&page_size=7"
    while url:  # through ties in the score, page by page
        body = api.get(url).json()
        seen += body["results"]
        url = body["next"]
    assert [row["id"] for row in seen] == [
        str(pk) for pk in scored.order_by("-score", "-id").values_list("pk", flat=True)
    ]
    ranged = api.get("/api/v1/leads/?score_min=0.3&score_max=0.5&page_size=500").json()
    assert ranged["results"] and all(0.3 <= row["score"] <= 0.5 for row in ranged["results"])
    assert len(ranged["results"]) == scored.filter(score__gte=0.3, score__lte=0.5).count()


@pytest.mark.parametrize(
    "query",
    ["ordering=score", "ordering=-email", "score_min=high", "score_max=2", "score_min=nan"],
)
def test_a_bad_order_or_score_range_is_a_400_that_names_it(api, workspace, query):
    response = api.get(f"/api/v1/leads/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in str(response.json()["error"])


def test_search_finds_leads_by_their_own_fields_and_by_their_company(api, workspace):
    acme = CompanyFactory(workspace=workspace, name="Acme Robotics", domain="acme.example")
    by_company = LeadFactory(workspace=workspace, company=acme, title="CEO")
    by_title = LeadFactory(workspace=workspace, company=None, title="Head of Robotics")
    LeadFactory(workspace=workspace, company=None, title="CFO")

    def found(search: str) -> set[str]:
        return {row["id"] for row in api.get(f"/api/v1/leads/?search={search}").json()["results"]}

    assert found("robotics") == {str(by_company.pk), str(by_title.pk)}
    assert found("ACME.EXAMPLE") == {str(by_company.pk)}
    assert found("no-such-thing-anywhere") == set()


def test_the_companies_postgresql_writes_are_the_company_serializers_json(api, workspace):
    researched = CompanyFactory(
        workspace=workspace,
        website="https://northwind.example/",
        description='Makes "carts" \u2014 and\nracks',
        employee_count=120,
        contact_emails=["sales@northwind.example"],
        socials={"linkedin": "https://www.linkedin.com/company/northwind"},
        tech_stack=["Shopify", "HubSpot"],
        open_roles_count=0,
        custom_fields={"tier": 1.5, "tags": [None, True]},
        field_sources={"industry": {"url": "https://northwind.example/about"}},
        enrich_status="done",
        enriched_at=timezone.now(),
    )
    bare = CompanyFactory(workspace=workspace, website="")
    Company.objects.for_workspace(workspace).filter(pk=bare.pk).update(
        created_at=timezone.now().replace(microsecond=0)
    )
    LeadFactory.create_batch(3, workspace=workspace, company=researched)

    body = api.get("/api/v1/companies/").json()

    companies = Company.objects.for_workspace(workspace).order_by("-created_at", "-id")
    expected = as_json(CompanyOutput(companies.annotate(lead_count=Count("leads")), many=True).data)
    assert body["results"] == expected
    assert [list(row) for row in body["results"]] == [list(CompanyOutput.Meta.fields)] * 2
    assert {row["lead_count"] for row in body["results"]} == {0, 3}
    assert {row["website"] for row in body["results"]} == {None, "https://northwind.example/"}


def test_the_api_company_list_counts_the_leads_of_its_page_only(
    api, workspace, django_assert_max_num_queries
):
    companies = [CompanyFactory(workspace=workspace) for _ in range(12)]
    for i, company in enumerate(companies):
        for _ in range(i % 3):
            LeadFactory(workspace=workspace, company=company)
    with django_assert_max_num_queries(8):
        body = api.get("/api/v1/companies/?page_size=5").json()
    counts = {row["id"]: row["lead_count"] for row in body["results"]}
    expected = {str(c.pk): i % 3 for i, c in enumerate(companies)}
    assert len(counts) == 5 and all(counts[pk] == expected[pk] for pk in counts)
    detail = api.get(f"/api/v1/companies/{companies[2].pk}/").json()
    assert detail["lead_count"] == 2


def test_the_feed_postgresql_writes_is_the_activity_serializers_json(api, workspace):
    lead = LeadFactory(workspace=workspace)
    payloads = [
        {"fields": ["title"], "n": 0},
        {"note": 'Zoë said "hi"\nthen \\ left', "score": 0.25, "none": None},
        {"nested": {"b": [1, 2.5, True], "a": {}}},
        {},
        {"n": 4},
    ]
    for payload in payloads:
        activity_record(
            workspace=workspace,
            type="lead.updated",
            object_type="lead",
            object_id=lead.pk,
            payload=payload,
        )
    activities_publish()
    rows = list(Activity.objects.for_workspace(workspace).filter(seq__isnull=False).order_by("seq"))
    Activity.objects.for_workspace(workspace).filter(pk=rows[0].pk).update(
        occurred_at=timezone.now().replace(microsecond=0)
    )
    rows[0].refresh_from_db()

    body = api.get("/api/v1/activities/?limit=3").json()

    assert body["results"] == as_json(ActivityOutput(rows[:3], many=True).data)
    assert body["has_more"] is True and body["last_id"] == rows[2].seq
    assert [list(row) for row in body["results"]] == [list(ActivityOutput.Meta.fields)] * 3
    rest = api.get(f"/api/v1/activities/?after={body['last_id']}").json()
    assert rest["results"] == as_json(ActivityOutput(rows[3:], many=True).data)
    assert rest["has_more"] is False and rest["last_id"] == rows[-1].seq
    empty = api.get(f"/api/v1/activities/?after={rest['last_id']}").json()
    assert empty == {"results": [], "last_id": rest["last_id"], "has_more": False}


def test_an_api_key_is_written_as_used_at_most_once_a_minute(api, api_key, workspace):
    key = WorkspaceAPIKey.objects.get(prefix=api_key.partition(".")[0])
    api.get("/api/v1/leads/")
    used = WorkspaceAPIKey.objects.get(pk=key.pk).last_used_at
    assert used is not None
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v1/leads/")
    assert not [q for q in queries if q["sql"].startswith('UPDATE "sdr_workspaceapikey"')]
    assert WorkspaceAPIKey.objects.get(pk=key.pk).last_used_at == used
    WorkspaceAPIKey.objects.filter(pk=key.pk).update(last_used_at=used - timedelta(minutes=2))
    api.get("/api/v1/leads/")
    assert WorkspaceAPIKey.objects.get(pk=key.pk).last_used_at > used


# --- web ------------------------------------------------------------------------------


def walk(web, base: str, link: re.Pattern[str]) -> tuple[list[str], list[str]]:
    """Every page forward by Next, then back by Previous: the ids seen each way."""
    joiner = "&" if "?" in base else "?"
    html = web.get(base).content.decode()
    forward = link.findall(html)
    while cursor := NEXT.search(html):
        html = web.get(f"{base}{joiner}cursor={cursor.group(1)}").content.decode()
        forward += link.findall(html)
    backward = link.findall(html)
    while cursor := PREVIOUS.search(html):
        html = web.get(f"{base}{joiner}cursor={cursor.group(1)}").content.decode()
        backward = link.findall(html) + backward
    return forward, backward


@pytest.mark.parametrize(
    "sort",
    ["-created", "name", "-name", "score", "-score", "company", "title", "activity", "-activity"],
)
def test_the_web_lead_list_pages_through_every_lead_once_in_order(web, workspace, sort):
    leads_varied(workspace, 61)
    forward, backward = walk(web, f"/leads/?sort={sort}", LEAD_LINK)
    assert len(forward) == len(set(forward)) == 61
    assert backward == forward


def test_the_web_lead_list_sorts_by_score_with_unscored_leads_last(web, workspace):
    low = LeadFactory(workspace=workspace, score=0.1)
    high = LeadFactory(workspace=workspace, score=0.9)
    unscored = LeadFactory(workspace=workspace, score=None)
    html = web.get("/leads/?sort=-score").content.decode()
    assert LEAD_LINK.findall(html) == [str(high.pk), str(low.pk), str(unscored.pk)]
    assert "0.90" in html and "Not scored" in html
    html = web.get("/leads/?sort=score").content.decode()
    assert LEAD_LINK.findall(html) == [str(low.pk), str(high.pk), str(unscored.pk)]
    html = web.get("/leads/?score_min=0.5").content.decode()
    assert LEAD_LINK.findall(html) == [str(high.pk)]


def test_the_web_lead_list_sorts_by_last_activity_latest_first_and_untouched_last(web, workspace):
    now = timezone.now()
    untouched = LeadFactory(workspace=workspace, last_name="Untouched")
    week = LeadFactory(workspace=workspace, last_activity_at=now - timedelta(days=7))
    hour = LeadFactory(workspace=workspace, last_activity_at=now - timedelta(hours=1))
    html = web.get("/leads/").content.decode()
    # The header's first click gives the latest activity first, as a seller means it.
    assert 'href="?sort=-activity">Last activity' in html
    assert "None yet" in html and "1\xa0hour ago" in html and "1\xa0week ago" in html
    html = web.get("/leads/?sort=-activity").content.decode()
    assert LEAD_LINK.findall(html) == [str(hour.pk), str(week.pk), str(untouched.pk)]
    assert 'href="?sort=activity">Last activity' in html
    html = web.get("/leads/?sort=activity").content.decode()
    assert LEAD_LINK.findall(html) == [str(week.pk), str(hour.pk), str(untouched.pk)]


def test_web_list_pages_take_a_bounded_number_of_queries(
    web, workspace, django_assert_max_num_queries
):
    tag = Tag.objects.for_workspace(workspace).create(workspace=workspace, name="vip")
    for lead in leads_varied(workspace, 120)[::2]:
        lead.tags.add(tag, through_defaults={"workspace": workspace})
    # 13, and one for a search: the matching companies are asked for first.
    for url in ["/leads/", "/leads/?sort=company&q=northwind", "/leads/companies/"]:
        with django_assert_max_num_queries(14):
            html = web.get(url).content.decode()
        if "cursor=" in html:
            with django_assert_max_num_queries(14):
                web.get(f"{url}{'&' if '?' in url else '?'}cursor={NEXT.search(html).group(1)}")


def test_a_bad_cursor_gives_the_first_page_and_a_bad_score_a_400(web, workspace):
    lead = LeadFactory(workspace=workspace)
    for cursor in ["garbage", "WyJhZnRlciIsIFsibm90IGEgZGF0ZSIsICJ4Il1d", ""]:
        response = web.get(f"/leads/?cursor={cursor}")
        assert response.status_code == 200
        assert LEAD_LINK.findall(response.content.decode()) == [str(lead.pk)]
    assert web.get("/leads/?score_min=lots").status_code == 400


def test_the_web_company_list_pages_and_counts_leads(web, workspace):
    companies = [CompanyFactory(workspace=workspace, name=f"Co {i:02d}") for i in range(55)]
    LeadFactory(workspace=workspace, company=companies[0])
    LeadFactory(workspace=workspace, company=companies[0])
    html = web.get("/leads/companies/").content.decode()
    assert "55 in all" in html
    assert re.search(
        r"Co 00</a></td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>[^<]*</td>\s*<td>2</td>", html
    )
    forward, backward = walk(web, "/leads/companies/", COMPANY_LINK)
    assert forward == backward == [str(c.pk) for c in companies]


def _number(html: str) -> str:
    return re.search(r'aria-current="page" data-testid="page-number">([^<]+)<', html).group(1)


def test_pages_are_numbered_and_a_number_jumps_to_the_same_rows_next_reaches(web, workspace):
    companies = [CompanyFactory(workspace=workspace, name=f"Co {i:03d}") for i in range(160)]
    first = web.get("/leads/companies/").content.decode()
    assert "Page 1 of 4, 160 in all" in first
    assert [int(n) for n in re.findall(r'aria-label="Page (\d+)"', first)] == [2, 3, 4]

    # Next from page 1 is page 2; so is the link numbered 2; both show the same rows.
    by_next = web.get(f"/leads/companies/?cursor={NEXT.search(first).group(1)}").content.decode()
    by_number = web.get("/leads/companies/?page=2").content.decode()
    assert _number(by_next) == _number(by_number) == "2"
    assert COMPANY_LINK.findall(by_next) == COMPANY_LINK.findall(by_number)
    assert COMPANY_LINK.findall(by_number) == [str(c.pk) for c in companies[50:100]]

    # From a jump, Previous and Next go on counting.
    back = web.get(f"/leads/companies/?cursor={PREVIOUS.search(by_number).group(1)}")
    assert _number(back.content.decode()) == "1"
    last = web.get("/leads/companies/?page=4").content.decode()
    assert COMPANY_LINK.findall(last) == [str(c.pk) for c in companies[150:]]
    assert 'rel="next"' not in last


def test_a_page_number_out_of_reach_gives_a_page_that_exists(web, workspace):
    companies = [CompanyFactory(workspace=workspace, name=f"Co {i:02d}") for i in range(3)]
    for page in ["9", "0", "-1", "x", "99999999999999999999"]:
        html = web.get(f"/leads/companies/?page={page}").content.decode()
        assert COMPANY_LINK.findall(html) == [str(c.pk) for c in companies], page
        assert "Page 1 of 1, 3 in all" in html
        assert 'aria-current="page"' not in html  # one page: no numbers to choose from


def test_numbered_links_reach_only_as_far_as_a_jump_is_cheap():
    from sdr.pagination import JUMP_ROWS_MAX, KeysetPage

    page = KeysetPage(
        rows=[],
        next_token="",
        previous_token="",
        total=1_000_000,
        total_is_estimate=True,
        number=7,
        size=50,
    )
    assert page.pages == 20_000
    assert page.numbers() == [1, None, 5, 6, 7, 8, 9, None, JUMP_ROWS_MAX // 50]


def test_the_company_list_sorts_by_each_column_and_pages_through_every_company(web, workspace):
    sizes = [None, 5, 500, 50, None, 5000]
    companies = [
        CompanyFactory(workspace=workspace, name=f"Co {i}", employee_count=size)
        for i, size in enumerate(sizes * 10)
    ]
    page = web.get("/leads/companies/", {"sort": "-size"}).content.decode()
    assert 'aria-sort="descending"><a href="?sort=size">Employees' in page

    forward, backward = walk(web, "/leads/companies/?sort=-size", COMPANY_LINK)

    by_size = sorted(
        (c for c in companies if c.employee_count is not None),
        key=lambda c: (c.employee_count, c.pk),
        reverse=True,  # the id breaks ties in the same direction
    )
    unknown = [c for c in companies if c.employee_count is None]
    assert forward == backward
    assert forward[: len(by_size)] == [str(c.pk) for c in by_size]
    # Companies of unknown size come last, whichever the direction.
    assert set(forward[len(by_size) :]) == {str(c.pk) for c in unknown}
    assert web.get("/leads/companies/", {"sort": "nonsense"}).status_code == 200


def test_the_migration_fills_in_last_activity_from_what_already_happened(workspace):
    from django.apps import apps

    backfill = importlib.import_module(
        "leads.migrations.0010_last_activity_and_sort_indexes"
    ).backfill
    now = timezone.now()
    sent = MessageFactory(workspace=workspace, status="sent", sent_at=now - timedelta(days=3))
    lead = sent.enrollment.lead
    ReplyFactory(workspace=workspace, lead=lead, received_at=now - timedelta(days=2))
    OutcomeFactory(workspace=workspace, lead=lead, occurred_at=now - timedelta(days=9))
    mailed_only = MessageFactory(workspace=workspace, status="sent", sent_at=now).enrollment.lead
    untouched = LeadFactory(workspace=workspace)
    Lead.objects.for_workspace(workspace).update(last_activity_at=None)

    backfill(apps, None)

    latest = dict(Lead.objects.for_workspace(workspace).values_list("pk", "last_activity_at"))
    assert latest[lead.pk] == now - timedelta(days=2)  # the reply, the latest of the three
    assert latest[mailed_only.pk] == now
    assert latest[untouched.pk] is None
