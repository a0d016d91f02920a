"""/api/v1/replies/: the list with its filters, one reply, and a person's correction."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from leads.contactability import is_suppressed
from outreach.models import Outcome, Reply, ReplyLabel
from tests.factories import EnrollmentFactory, LeadFactory, ReplyFactory


def test_replies_are_listed_and_filtered_by_category_lead_and_time(
    api, workspace, django_assert_max_num_queries
):
    dana = LeadFactory(workspace=workspace)
    old = ReplyFactory(
        workspace=workspace,
        lead=dana,
        category=Reply.Category.QUESTION,
        received_at=timezone.now() - timedelta(days=3),
    )
    new = ReplyFactory(workspace=workspace, lead=dana, category=Reply.Category.INTERESTED)
    other = ReplyFactory(workspace=workspace, category=Reply.Category.BOUNCE)

    def ids(**params):
        response = api.get("/api/v1/replies/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    with django_assert_max_num_queries(8):
        assert ids() == {str(old.pk), str(new.pk), str(other.pk)}
    assert ids(category="interested,question") == {str(old.pk), str(new.pk)}
    assert ids(lead=str(dana.pk)) == {str(old.pk), str(new.pk)}
    after = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(received_after=after) == {str(new.pk), str(other.pk)}


def test_a_bad_filter_is_a_clear_400(api, workspace):
    response = api.get("/api/v1/replies/", {"category": "sold"})
    assert response.status_code == 400
    assert "category" in response.json()["error"]["details"]
    response = api.get("/api/v1/replies/", {"received_after": "yesterday"})
    assert response.status_code == 400


def test_one_reply_shows_what_was_understood_and_done(api, workspace):
    reply = ReplyFactory(
        workspace=workspace,
        actions=[{"action": "classified", "detail": "Interested (90%, model)"}],
    )
    body = api.get(f"/api/v1/replies/{reply.pk}/").json()
    assert body["category"] == "interested" and body["confidence"] == 0.9
    assert body["actions"][0]["action"] == "classified"
    assert body["visible_text"] == "Sounds good, tell me more."


def test_another_workspaces_reply_is_a_404(api, other_workspace):
    reply = ReplyFactory(workspace=other_workspace)
    assert api.get(f"/api/v1/replies/{reply.pk}/").status_code == 404
    response = api.post(
        f"/api/v1/replies/{reply.pk}/category/", {"category": "other"}, format="json"
    )
    assert response.status_code == 404
    assert Reply.unscoped_objects.get(pk=reply.pk).category == "interested"


def test_a_category_override_is_kept_as_a_label_and_acts(api, workspace):
    enrollment = EnrollmentFactory(workspace=workspace)
    reply = ReplyFactory(
        workspace=workspace,
        lead=enrollment.lead,
        enrollment=enrollment,
        category=Reply.Category.NOT_NOW,
        confidence=0.6,
    )

    response = api.post(
        f"/api/v1/replies/{reply.pk}/category/",
        {"category": "unsubscribe", "note": "They asked to be removed."},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["category"], body["classifier"], body["confidence"]) == (
        "unsubscribe",
        "person",
        1.0,
    )
    label = ReplyLabel.objects.for_workspace(workspace).get(reply=reply)
    assert (label.category_before, label.confidence_before, label.note) == (
        "not_now",
        0.6,
        "They asked to be removed.",
    )
    assert is_suppressed(workspace=workspace, email=enrollment.lead.email)
    assert Outcome.objects.for_workspace(workspace).get().kind == Outcome.Kind.UNSUBSCRIBED


def test_an_unknown_category_is_a_400(api, workspace):
    reply = ReplyFactory(workspace=workspace)
    response = api.post(f"/api/v1/replies/{reply.pk}/category/", {"category": "sold"})
    assert response.status_code == 400
    assert "category" in response.json()["error"]["details"]
    assert not ReplyLabel.objects.for_workspace(workspace).exists()
