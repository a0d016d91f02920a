"""Workspaces (tenants), their members and their API keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from sdr.fields import EncryptedTextField
from sdr.tenancy import TenantModel

__all__ = [
    "Activity",
    "IdempotencyRecord",
    "LLMCall",
    "Membership",
    "RateBucket",
    "TenantModel",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Workspace",
    "WorkspaceAPIKey",
]


class Workspace(models.Model):
    """One customer: every other row of the product belongs to exactly one workspace."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Optional per-workspace LLM endpoint, for customers who bring their own provider key.
    llm_base_url = models.URLField(blank=True)
    llm_api_key = EncryptedTextField(blank=True)
    llm_models = models.JSONField(
        default=dict, blank=True, help_text='Per task, e.g. {"drafting": "gpt-4.1"}'
    )
    # Sending: the last fallback for a recipient's local time, and days nobody is mailed.
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name")
    holidays = models.JSONField(default=list, blank=True, help_text='["2026-12-25", ...]')
    # Signs raw MIME posted to the inbound-email webhook (HMAC-SHA256 over timestamp and
    # body); empty means the webhook is off for this workspace.
    inbound_webhook_secret = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="unique_membership"),
        ]
        ordering = ["workspace__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def can_manage(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ADMIN}

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> models.QuerySet[Membership]:
        """Not a tenant model (a person belongs to several workspaces), scoped the same
        explicit way, so web routes resolve a membership id only inside the workspace."""
        return cls.objects.filter(workspace=workspace)


def _default_scopes() -> list[str]:
    return ["read", "write"]


class WorkspaceAPIKey(AbstractAPIKey):
    """A CRM sync key: shown once at creation, stored as a SHA-512 hash, revocable.

    Not a TenantModel because djangorestframework-api-key fixes the primary key and the
    manager; its scoping is done the same explicit way through `for_workspace`.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read everything"
        WRITE = "write", "Create and change leads, companies, campaigns, suppressions"
        SEND = "send", "Release email: approve drafts, pause and resume sending"
        ADMIN = "admin", "Erase people, lift suppressions, manage mailboxes and webhooks"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # What the key may do (sdr/auth.py). A sync key needs read and write; releasing email
    # and the admin acts are asked for separately.
    scopes = models.JSONField(default=_default_scopes)
    # Web URLs name a key by its prefix: the library's primary key embeds the key's hash.
    url_lookup = "prefix"

    class Meta(AbstractAPIKey.Meta):
        abstract = False
        verbose_name = "workspace API key"

    @classmethod
    def for_workspace(cls, workspace: Workspace) -> models.QuerySet[WorkspaceAPIKey]:
        return cls.objects.filter(workspace=workspace)


class LLMCall(TenantModel):
    """One model call (each attempt): what it cost, how long it took, whether it worked."""

    class Purpose(models.TextChoices):
        DRAFTING = "drafting", "Drafting"
        CHECKING = "checking", "Checking"
        CLASSIFICATION = "classification", "Classification"

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    model = models.CharField(max_length=100)
    prompt_version = models.CharField(max_length=40)
    attempt = models.PositiveSmallIntegerField(default=1)
    tokens_in = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=0, help_text="USD")
    succeeded = models.BooleanField(default=False)
    # A reason code and a short description; never the prompt, the answer or a key.
    error = models.CharField(max_length=300, blank=True)
    # What the call was for ("message", id): costs add up per draft, email, reply.
    subject_type = models.CharField(max_length=30, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.model} ({'ok' if self.succeeded else self.error})"


class Activity(TenantModel):
    """One thing that happened, written in the same transaction as the change it describes.

    It is the lead's timeline, the CRM change feed and the outbox for webhooks and billing.
    `seq` is the feed's cursor: the insert's own key is taken when the transaction starts
    writing, so keys commit out of order; `seq` is handed out afterwards, in commit order,
    by `sdr.activity.activities_publish`. Until then it is null and the row is not in the feed.
    """

    class ActorType(models.TextChoices):
        USER = "user", "User"
        API_KEY = "api_key", "API key"
        SYSTEM = "system", "System"

    # A bigint key in place of the tenant base's UUID; mypy rejects changing an inherited
    # field's type, on purpose here.
    id = models.BigAutoField(primary_key=True)  # type: ignore[assignment]
    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    type = models.CharField(max_length=60)
    occurred_at = models.DateTimeField()
    object_type = models.CharField(max_length=30)
    object_id = models.CharField(max_length=64)
    actor_type = models.CharField(max_length=10, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    # Ids, states, counts and field names; never a secret, and as little personal data as
    # the feed needs (erasure blanks it for the erased person).
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["seq", "id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["workspace", "seq"], name="activity_feed"),
            models.Index(fields=["workspace", "object_type", "object_id"], name="activity_object"),
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="activity_unpublished"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type}:{self.object_id}"


class WebhookEndpoint(TenantModel):
    """A URL of the customer's (their CRM, their glue code) that hears about activities.

    Deliveries are cut from the activity log in feed order (`cursor` is the last `seq`
    looked at) and sent one at a time, in that order: a receiver sees the events of an
    object in the order they happened. A failing delivery holds the ones after it; after
    `WEBHOOK_GIVE_UP_SECONDS` of failures the endpoint is disabled and its owners told, and
    enabling it again resumes where it stopped, so nothing is lost.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Activity types ("reply.classified"), prefixes ("reply.*"), or ["*"] for everything.
    event_types = models.JSONField(default=list)
    secret = EncryptedTextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    disabled_reason = models.CharField(max_length=300, blank=True)
    cursor = models.BigIntegerField(default=0, editable=False)
    # The delivery lease: one worker sends an endpoint's deliveries at a time (in order).
    sending_until = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(TenantModel):
    """One activity for one endpoint: sent until the receiver answers 2xx, with a log of
    each attempt (status, a bit of the answer, how long it took)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    seq = models.BigIntegerField(help_text="The activity's feed position: the sending order")
    event_type = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # [{at, status_code, error, response, ms}], the newest last, at most 20.
    log = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["endpoint", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "activity"], name="delivery_once"),
        ]
        indexes = [models.Index(fields=["endpoint", "status", "seq"], name="delivery_queue")]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for repeats.

    Keyed by who sent it (a hash of the API key or the signed-in user, never the key
    itself) and the client's key; `request_hash` tells a true repeat from a reused key.
    Not a tenant row: the credentials, which belong to one workspace, scope it.
    """

    principal = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    # Null while the first request is still running.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_once"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.response_status or 'running'})"


class RateBucket(models.Model):
    """A token bucket (sdr/ratelimit.py): `tokens` left as of `updated` (Unix seconds)."""

    key = models.CharField(max_length=200, primary_key=True)
    tokens = models.FloatField()
    updated = models.FloatField()
    # Whether the last request took a token: what the one statement returns.
    allowed = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"
