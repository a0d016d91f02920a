"""Workspaces (tenants), their members and their API keys."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from sdr.fields import EncryptedTextField
from sdr.tenancy import TenantModel

__all__ = ["Activity", "LLMCall", "Membership", "TenantModel", "Workspace", "WorkspaceAPIKey"]


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


class WorkspaceAPIKey(AbstractAPIKey):
    """A CRM sync key: shown once at creation, stored as a SHA-512 hash, revocable.

    Not a TenantModel because djangorestframework-api-key fixes the primary key and the
    manager; its scoping is done the same explicit way through `for_workspace`.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

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
