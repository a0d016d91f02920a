"""API key scopes (read, write, send, admin), who may turn on auto-send, and the audit
entries for security-relevant changes."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from outreach.models import Campaign
from sdr import services
from sdr.models import Activity, Membership, WorkspaceAPIKey
from tests.factories import CampaignFactory, MessageFactory, SuppressionFactory


def _client(workspace, *scopes: str) -> APIClient:
    _, key = services.api_key_create(workspace=workspace, name="k", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_a_read_key_reads_but_cannot_write(workspace):
    reader = _client(workspace, "read")
    assert reader.get("/api/v1/leads/").status_code == 200
    refused = reader.post("/api/v1/leads/", {"email": "a@b.example"}, format="json")
    assert refused.status_code == 403
    assert "'write' scope" in refused.json()["error"]["message"]


def test_a_sync_key_cannot_release_email(workspace):
    sync = _client(workspace, "read", "write")
    message = MessageFactory(workspace=workspace, status="pending_review")
    refused = sync.post(f"/api/v1/messages/{message.pk}/approve/", {}, format="json")
    assert refused.status_code == 403
    assert "'send' scope" in refused.json()["error"]["message"]
    sender = _client(workspace, "read", "send")
    assert (
        sender.post(f"/api/v1/messages/{message.pk}/approve/", {}, format="json").status_code == 200
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("delete", "/api/v1/leads/{lead}/", None),
        ("delete", "/api/v1/suppressions/{suppression}/", None),
        ("post", "/api/v1/webhooks/", {"url": "https://crm.example/h", "event_types": ["*"]}),
        ("post", "/api/v1/mailboxes/", {"from_email": "a@b.example", "smtp_host": "b.example"}),
    ],
)
def test_admin_acts_need_the_admin_scope(workspace, method, path, body):
    message = MessageFactory(workspace=workspace)
    suppression = SuppressionFactory(workspace=workspace)
    url = path.format(lead=message.enrollment.lead_id, suppression=suppression.pk)
    writer = _client(workspace, "read", "write", "send")
    response = getattr(writer, method)(url, body, format="json")
    assert response.status_code == 403, response.content


def test_keys_need_known_scopes(workspace):
    from sdr.errors import AppError

    with pytest.raises(AppError):
        services.api_key_create(workspace=workspace, name="k", scopes=["root"])
    with pytest.raises(AppError):
        services.api_key_create(workspace=workspace, name="k", scopes=[])


def test_the_command_takes_scopes(workspace, capsys):
    call_command("create_api_key", workspace=workspace.slug, name="Ops", scopes="read,send")
    assert WorkspaceAPIKey.objects.get(name="Ops").scopes == ["read", "send"]


def test_keys_created_and_revoked_are_audited_without_the_key(workspace, member):
    api_key, key = services.api_key_create(workspace=workspace, name="HubSpot", created_by=member)
    services.api_key_revoke(api_key=api_key)
    audit = Activity.objects.for_workspace(workspace).filter(object_type="api_key")
    assert [a.type for a in audit.order_by("id")] == ["api_key.created", "api_key.revoked"]
    assert all(a.object_id == api_key.prefix for a in audit)
    assert all(
        key not in str(a.payload) and api_key.hashed_key not in str(a.payload) for a in audit
    )


# --- auto-send ---------------------------------------------------------------------------


def test_only_owners_and_admins_turn_on_auto_send(web, member, workspace):
    campaign = CampaignFactory(workspace=workspace)
    Membership.objects.filter(workspace=workspace, user=member).update(role="member")
    change = {"autonomy": "auto_send", "review_sample_share": 0.2}
    refused = web.patch(
        f"/api/v1/campaigns/{campaign.pk}/", change, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "owner or admin" in refused.json()["error"]["message"]
    campaign.refresh_from_db()
    assert campaign.autonomy == Campaign.Autonomy.APPROVE
    Membership.objects.filter(workspace=workspace, user=member).update(role="admin")
    allowed = web.patch(
        f"/api/v1/campaigns/{campaign.pk}/", change, content_type="application/json"
    )
    assert allowed.status_code == 200, allowed.content
    logged = Activity.objects.for_workspace(workspace).get(type="campaign.autonomy_changed")
    assert logged.payload == {"from": "approve", "to": "auto_send", "review_sample_share": 0.2}


def test_auto_send_never_with_a_review_sample_under_the_floor(api, workspace, settings):
    settings.AUTO_SEND_MIN_REVIEW_SHARE = 0.05
    campaign = CampaignFactory(workspace=workspace)
    response = api.patch(
        f"/api/v1/campaigns/{campaign.pk}/",
        {"autonomy": "auto_send", "review_sample_share": 0.0},
        format="json",
    )
    assert response.status_code == 400
    assert "review_sample_share" in response.json()["error"]["details"]


def test_a_plain_member_cannot_pick_auto_send_on_the_campaign_form(client, workspace):
    from outreach.forms import CampaignForm
    from tests.factories import MembershipFactory

    plain = MembershipFactory(workspace=workspace, role="member").user
    client.force_login(plain)
    campaign = CampaignFactory(workspace=workspace)
    form = CampaignForm(instance=campaign, workspace=workspace)
    data = {name: form[name].value() for name in form.fields}
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    data |= {"autonomy": "auto_send", "review_sample_share": "0.5"}
    response = client.post(f"/campaigns/{campaign.pk}/edit/", data)
    campaign.refresh_from_db()
    assert campaign.autonomy != Campaign.Autonomy.AUTO_SEND
    assert "owner or admin" in response.content.decode()
