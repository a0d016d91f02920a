"""The leads list's pause, resume, tag and untag bulk actions (issue 14), and the tag
filter: sequences held and taken up again, and a team's own labels put on, found and
taken off."""

from __future__ import annotations

import pytest

from leads.models import LeadTag, Tag
from outreach.models import Enrollment
from sdr.activity import activities_publish
from sdr.models import Activity
from tests.factories import CampaignFactory, EnrollmentFactory, LeadFactory

pytestmark = pytest.mark.django_db

BULK = "/leads/bulk/"
ACTIVE, PAUSED = Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED


def _said(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _status(enrollment) -> str:
    enrollment.refresh_from_db()
    return enrollment.status


def _tags(lead) -> list[str]:
    return sorted(tag.name for tag in lead.tags.all())


def _types(workspace, object_type: str) -> list[str]:
    activities_publish()
    rows = Activity.objects.for_workspace(workspace).filter(object_type=object_type)
    return list(rows.order_by("seq").values_list("type", flat=True))


# --- pause and resume -------------------------------------------------------------------


def test_pausing_holds_running_sequences_and_resuming_takes_them_up_again(web, workspace):
    running = EnrollmentFactory(workspace=workspace)
    idle = LeadFactory(workspace=workspace)

    paused = web.post(BULK, {"action": "pause", "lead": [running.lead.pk, idle.pk]}, follow=True)

    assert _status(running) == PAUSED and running.stop_reason == "Paused by a person"
    assert "Paused the sequences of 1 lead. Skipped: 1 not in a running sequence." in _said(paused)
    resumed = web.post(BULK, {"action": "resume", "lead": [running.lead.pk]}, follow=True)
    assert _status(running) == ACTIVE and running.stop_reason == ""
    assert "Resumed the sequences of 1 lead." in _said(resumed)
    assert _types(workspace, "enrollment")[-2:] == ["enrollment.paused", "enrollment.resumed"]
    timeline = web.get(f"/leads/{running.lead.pk}/").content.decode()
    assert "Sequence paused" in timeline and "Sequence resumed" in timeline


def test_resuming_never_runs_two_sequences_for_one_lead(web, workspace):
    busy = EnrollmentFactory(workspace=workspace, status=PAUSED)
    elsewhere = EnrollmentFactory(
        workspace=workspace, lead=busy.lead, campaign=CampaignFactory(workspace=workspace)
    )
    lead = LeadFactory(workspace=workspace)
    older = EnrollmentFactory(workspace=workspace, lead=lead, status=PAUSED)
    newer = EnrollmentFactory(
        workspace=workspace, lead=lead, status=PAUSED, campaign=CampaignFactory(workspace=workspace)
    )
    Enrollment.objects.for_workspace(workspace).filter(pk=older.pk).update(
        updated_at=newer.updated_at.replace(year=2020)
    )

    response = web.post(BULK, {"action": "resume", "lead": [busy.lead.pk, lead.pk]}, follow=True)

    assert (_status(busy), _status(elsewhere)) == (PAUSED, ACTIVE)
    assert (_status(older), _status(newer)) == (PAUSED, ACTIVE)  # the one paused last
    assert "Resumed the sequences of 1 lead. Skipped: 1 already in a running sequence." in _said(
        response
    )


def test_pause_reaches_only_this_workspace(web, workspace, other_workspace):
    theirs = EnrollmentFactory(workspace=other_workspace)
    response = web.post(BULK, {"action": "pause", "lead": [theirs.lead.pk]}, follow=True)
    assert "No leads selected" in _said(response)
    assert _status(theirs) == ACTIVE


# --- tags -------------------------------------------------------------------------------


def test_tagging_puts_one_tag_on_the_ticked_leads_whatever_the_case(web, workspace):
    dana, lee, other = (LeadFactory(workspace=workspace) for _ in range(3))

    first = web.post(
        BULK, {"action": "tag", "tag_name": "  Warm   intro ", "lead": [dana.pk]}, follow=True
    )
    again = web.post(
        BULK, {"action": "tag", "tag_name": "warm INTRO", "lead": [dana.pk, lee.pk]}, follow=True
    )

    assert "Tagged 1 lead." in _said(first)
    assert "Tagged 1 lead. Skipped: 1 already tagged." in _said(again)
    assert list(Tag.objects.for_workspace(workspace).values_list("name", flat=True)) == [
        "Warm intro"
    ]
    assert (_tags(dana), _tags(lee), _tags(other)) == (["Warm intro"], ["Warm intro"], [])
    assert _types(workspace, "lead").count("lead.tagged") == 2
    page = web.get(f"/leads/{dana.pk}/").content.decode()
    assert "Tagged" in page and "?tag=Warm%20intro" in page


def test_the_list_shows_tags_and_filters_by_one(web, workspace):
    tagged, untagged = LeadFactory(workspace=workspace), LeadFactory(workspace=workspace)
    web.post(BULK, {"action": "tag", "tag_name": "SaaStr 2026", "lead": [tagged.pk]})

    everyone = web.get("/leads/").content.decode()
    assert '<span class="tag" data-testid="tag">SaaStr 2026</span>' in everyone
    assert '<option value="SaaStr 2026"' in everyone  # the filter and the bulk bar offer it
    html = web.get("/leads/?tag=saastr 2026").content.decode()
    assert str(tagged.pk) in html and str(untagged.pk) not in html
    exported = web.post(BULK, {"action": "export", "scope": "matching", "tag": "SaaStr 2026"})
    body = b"".join(exported.streaming_content).decode()
    assert str(tagged.pk) in body and str(untagged.pk) not in body
    assert body.splitlines()[0].endswith("last_activity_at,tags")
    assert body.splitlines()[1].endswith(",SaaStr 2026")


def test_all_matching_leads_are_tagged_and_untagged(web, workspace):
    leads = [LeadFactory(workspace=workspace, title="CEO") for _ in range(3)]
    LeadFactory(workspace=workspace, title="Intern")
    web.post(BULK, {"action": "tag", "tag_name": "execs", "scope": "matching", "q": "CEO"})
    assert LeadTag.objects.for_workspace(workspace).count() == 3

    response = web.post(
        BULK, {"action": "untag", "tag_name": "EXECS", "lead": [leads[0].pk]}, follow=True
    )
    assert "Took the tag off 1 lead." in _said(response)
    assert _tags(leads[0]) == [] and _tags(leads[1]) == ["execs"]
    web.post(BULK, {"action": "untag", "tag_name": "execs", "scope": "matching", "q": "CEO"})
    # A tag nobody wears is gone from the filter.
    assert not Tag.objects.for_workspace(workspace).exists()
    assert _types(workspace, "lead").count("lead.untagged") == 3


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("", "Give the tag a name."),
        ("   \t ", "Give the tag a name."),
        ("\u200b\u202e", "Give the tag a name."),
        ("x" * 41, "A tag is at most 40 characters; this one has 41."),
    ],
)
def test_a_tag_without_a_usable_name_is_refused_and_nothing_changes(web, workspace, name, said):
    lead = LeadFactory(workspace=workspace)
    response = web.post(BULK, {"action": "tag", "tag_name": name, "lead": [lead.pk]}, follow=True)
    assert said in _said(response)
    assert not Tag.objects.for_workspace(workspace).exists()


def test_a_direction_override_cannot_make_one_tag_read_as_another(web, workspace):
    lead = LeadFactory(workspace=workspace)
    web.post(BULK, {"action": "tag", "tag_name": "vip\u202e\u0000x", "lead": [lead.pk]})
    assert not Tag.objects.for_workspace(workspace).exists()  # NUL: the form is refused
    web.post(BULK, {"action": "tag", "tag_name": "v\u202eip\u200b", "lead": [lead.pk]})
    assert _tags(lead) == ["vip"]


def test_tags_are_each_workspaces_own(web, workspace, other_workspace):
    theirs = LeadFactory(workspace=other_workspace)
    mine = LeadFactory(workspace=workspace)
    response = web.post(
        BULK, {"action": "tag", "tag_name": "vip", "lead": [theirs.pk]}, follow=True
    )
    assert "No leads selected" in _said(response)
    assert not LeadTag.unscoped_objects.filter(lead=theirs).exists()
    Tag.objects.for_workspace(other_workspace).create(workspace=other_workspace, name="vip")
    web.post(BULK, {"action": "tag", "tag_name": "VIP", "lead": [mine.pk]})
    assert Tag.objects.for_workspace(workspace).get().name == "VIP"
    html = web.get("/leads/?tag=vip").content.decode()
    assert str(mine.pk) in html and str(theirs.pk) not in html


def test_a_workspace_s_tags_are_bounded_and_the_limit_says_so(web, workspace, monkeypatch):
    from leads import tags

    monkeypatch.setattr(tags, "MAX_TAGS", 1)
    lead = LeadFactory(workspace=workspace)
    web.post(BULK, {"action": "tag", "tag_name": "first", "lead": [lead.pk]})
    refused = web.post(
        BULK, {"action": "tag", "tag_name": "second", "lead": [lead.pk]}, follow=True
    )
    assert "A workspace keeps at most 1 tags" in _said(refused)
    again = web.post(BULK, {"action": "tag", "tag_name": "FIRST", "lead": [lead.pk]}, follow=True)
    assert "Skipped: 1 already tagged." in _said(again)  # an existing tag is always usable


def test_the_api_puts_tags_on_a_lead_and_takes_them_off_in_one_call(api, workspace):
    lead = LeadFactory(workspace=workspace)
    url = f"/api/v1/leads/{lead.pk}/tags/"

    first = api.post(url, {"add": ["VIP", "Q4 list"]}, format="json")
    assert first.status_code == 200, first.content
    assert sorted(first.json()["tags"]) == ["Q4 list", "VIP"]

    # Any case names the same tag; a tag the lead does not wear is fine to remove.
    second = api.post(
        url, {"add": ["vip", "Warm intro"], "remove": ["q4 LIST", "never worn"]}, format="json"
    )
    assert second.status_code == 200, second.content
    assert sorted(second.json()["tags"]) == ["VIP", "Warm intro"]
    assert not Tag.objects.for_workspace(workspace).filter(name="Q4 list").exists()  # unused

    activities_publish()
    changes = Activity.unscoped_objects.filter(
        workspace=workspace, object_id=str(lead.pk), type__in=["lead.tagged", "lead.untagged"]
    ).order_by("seq")
    assert [(a.type, a.payload["tag"]) for a in changes] == [
        ("lead.tagged", "VIP"),
        ("lead.tagged", "Q4 list"),
        ("lead.tagged", "Warm intro"),
        ("lead.untagged", "Q4 list"),
    ]
    # The key is the actor: a sync job passes over the echoes of its own changes.
    assert {a.actor_type for a in changes} == {Activity.ActorType.API_KEY}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "Give tags to add, to remove, or both."),
        ({"add": [], "remove": []}, "Give tags to add, to remove, or both."),
        ({"add": ["x" * 41]}, "A tag is at most 40 characters"),
        ({"add": ["\u200b\u202e"]}, "Give the tag a name."),
        ({"add": ["VIP"], "remove": ["vip"]}, "both added and removed"),
        ({"add": [f"t{i}" for i in range(51)]}, "no more than 50"),
        (
            {"add": [f"a{i}" for i in range(30)], "remove": [f"r{i}" for i in range(30)]},
            "At most 50 tags a call.",
        ),
        ({"add": "VIP"}, "list"),
    ],
)
def test_bad_tag_changes_are_refused_and_change_nothing(api, workspace, body, words):
    lead = LeadFactory(workspace=workspace)
    LeadTag.objects.for_workspace(workspace).create(
        workspace=workspace,
        lead=lead,
        tag=Tag.objects.for_workspace(workspace).create(workspace=workspace, name="Kept"),
    )

    response = api.post(f"/api/v1/leads/{lead.pk}/tags/", body, format="json")

    assert response.status_code == 400
    assert words in response.content.decode()
    assert list(lead.tags.values_list("name", flat=True)) == ["Kept"]


def test_another_workspaces_lead_cannot_be_tagged(api, workspace):
    from tests.factories import WorkspaceFactory

    stranger = LeadFactory(workspace=WorkspaceFactory())
    response = api.post(f"/api/v1/leads/{stranger.pk}/tags/", {"add": ["VIP"]}, format="json")
    assert response.status_code == 404
    assert not LeadTag.unscoped_objects.filter(lead=stranger).exists()


def test_the_api_gives_each_lead_its_tags_and_filters_by_one(api, web, workspace):
    tagged, other = LeadFactory(workspace=workspace), LeadFactory(workspace=workspace)
    web.post(BULK, {"action": "tag", "tag_name": "Warm intro", "lead": [tagged.pk]})

    listed = api.get("/api/v1/leads/", {"tag": "warm intro"})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [str(tagged.pk)]
    assert listed.json()["results"][0]["tags"] == ["Warm intro"]
    assert api.get(f"/api/v1/leads/{other.pk}/").json()["tags"] == []
    assert api.get(f"/api/v1/leads/{tagged.pk}/").json()["tags"] == ["Warm intro"]
    too_long = api.get("/api/v1/leads/", {"tag": "x" * 41})
    assert too_long.status_code == 400 and "tag" in too_long.content.decode()


def test_a_tags_call_costs_the_same_statements_for_one_tag_or_fifty(workspace):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leads.tags import lead_tags_change

    def statements(lead, **change) -> int:
        with CaptureQueriesContext(connection) as queries:
            lead_tags_change(workspace=workspace, lead_id=lead.pk, **change)
        return len(queries)

    one, many = LeadFactory(workspace=workspace), LeadFactory(workspace=workspace)
    statements(one, add=["solo"], remove=[])
    statements(many, add=[f"old {i}" for i in range(10)], remove=[])

    few = statements(one, add=["new 0"], remove=["solo"])
    lots = statements(
        many,
        add=[f"new {i}" for i in range(30)] + [f"OLD {i}" for i in range(5)],
        remove=[f"old {i}" for i in range(5, 10)] + [f"never {i}" for i in range(10)],
    )

    assert lots == few
    assert _tags(many) == sorted([f"new {i}" for i in range(30)] + [f"old {i}" for i in range(5)])
    assert _tags(one) == ["new 0"]
    # Made only to be added; and the removed tags no lead wears any more are gone.
    assert not Tag.objects.for_workspace(workspace).filter(name__startswith="never").exists()
    assert not Tag.objects.for_workspace(workspace).filter(name__in=["solo", "old 7"]).exists()


def test_a_tags_call_that_would_pass_the_workspace_s_bound_changes_nothing(workspace, monkeypatch):
    from leads import tags
    from sdr.errors import AppError

    monkeypatch.setattr(tags, "MAX_TAGS", 3)
    lead = LeadFactory(workspace=workspace)
    tags.lead_tags_change(workspace=workspace, lead_id=lead.pk, add=["a", "b"], remove=[])

    with pytest.raises(AppError, match="at most 3 tags"):
        tags.lead_tags_change(workspace=workspace, lead_id=lead.pk, add=["c", "d"], remove=["a"])

    assert _tags(lead) == ["a", "b"]
    tags.lead_tags_change(workspace=workspace, lead_id=lead.pk, add=["A", "c"], remove=["b"])
    assert _tags(lead) == ["a", "c"]
