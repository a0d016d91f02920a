"""/api/v1/ for campaigns, enrollments, messages (drafts and their review) and mailboxes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.api import BillableEventOutput
from billing.disputes import event_dispute
from billing.models import BillableEvent
from leads.api import FactOutput
from outreach import (
    campaigns,
    enrollment,
    mailboxes,
    messages,
    outcomes,
    review,
    selectors,
    unknown,
)
from outreach import variants as ab
from outreach.campaigns import CAMPAIGN_FIELDS, MAX_DELAY_BUSINESS_DAYS
from outreach.models import Campaign, Enrollment, Mailbox, Message, Outcome, SequenceStep
from sdr.api_base import (
    WorkspaceScoped,
    WorkspaceSerializer,
    can_manage,
    person,
    validated,
)
from sdr.edge import query_uuid
from sdr.errors import AppError, ErrorCode
from sdr.http import ApiRequest
from sdr.tenancy import TenantQuerySet


class VariantSerializer(serializers.Serializer):
    """One A/B variant of a step (outreach/variants.py): its instructions replace the
    step's for the drafts that use it."""

    key = serializers.RegexField(ab.KEY_PATTERN, help_text="Letters, digits, - or _")
    # The metaclass takes declared fields off the class, so `label` does not shadow
    # Field.label at run time; the stubs cannot know that.
    label = serializers.CharField(  # type: ignore[assignment]
        max_length=80, required=False, allow_blank=True
    )
    instructions = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class StepSerializer(serializers.ModelSerializer):
    # ListSerializer takes max_length since DRF 3.15; the stubs predate it.
    variants = VariantSerializer(  # type: ignore[call-arg]
        many=True, required=False, max_length=ab.MAX_VARIANTS
    )

    class Meta:
        model = SequenceStep
        fields = ["id", "order", "kind", "delay_business_days", "instructions", "variants"]
        read_only_fields = ["id", "order"]
        # The limit is enforced by campaigns.sequence_set; stated here for the schema.
        extra_kwargs = {
            "delay_business_days": {"min_value": 0, "max_value": MAX_DELAY_BUSINESS_DAYS}
        }


@extend_schema_field(
    {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "08:00"}
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time without a zone ("08:00"): the zone is the recipient's. The schema
    says so with a pattern, since `format: time` (RFC 3339) requires an offset."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class CampaignOutput(WorkspaceSerializer):
    steps = serializers.SerializerMethodField()
    send_window_start = LocalTimeField(read_only=True)
    send_window_end = LocalTimeField(read_only=True)
    send_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        read_only=True,
        help_text="Weekdays the campaign sends on: 0 = Monday",
    )

    class Meta:
        model = Campaign
        fields = ["id", *CAMPAIGN_FIELDS, "mailboxes", "steps", "created_at", "updated_at"]
        read_only_fields = fields

    def get_steps(self, campaign: Campaign) -> list[dict]:
        # many=True makes a ListSerializer, whose data is a list; the stubs keep the class.
        return StepSerializer(campaign.steps.order_by("order"), many=True).data  # type: ignore[return-value]


class CampaignInput(WorkspaceSerializer):
    """A ModelSerializer only so that `mailboxes` accepts the workspace's mailboxes alone
    (WorkspaceSerializer scopes related fields); it never saves: campaigns.py does."""

    name = serializers.CharField(max_length=200)
    status = serializers.ChoiceField(Campaign.Status.choices, required=False)
    product = serializers.CharField()
    value_propositions = serializers.ListField(child=serializers.CharField(), required=False)
    proof_points = serializers.ListField(child=serializers.CharField(), required=False)
    case_studies = serializers.ListField(child=serializers.DictField(), required=False)
    call_to_action = serializers.CharField(max_length=300)
    tone = serializers.CharField(max_length=200, required=False, allow_blank=True)
    style_guide = serializers.CharField(required=False, allow_blank=True)
    example_emails = serializers.ListField(child=serializers.DictField(), required=False)
    language = serializers.CharField(max_length=10, required=False)
    allowed_links = serializers.ListField(child=serializers.URLField(), required=False)
    competitors = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=100,
        help_text="Names a draft must never mention: the verifier holds a draft that does",
    )
    sender_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    sender_title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    sender_company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    autonomy = serializers.ChoiceField(Campaign.Autonomy.choices, required=False)
    review_sample_share = serializers.FloatField(min_value=0, max_value=1, required=False)
    max_words_first_touch = serializers.IntegerField(min_value=20, max_value=400, required=False)
    max_words_follow_up = serializers.IntegerField(min_value=20, max_value=400, required=False)
    steps = StepSerializer(many=True, required=False)
    mailboxes = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Mailbox.unscoped_objects.none(),  # scoped to the workspace per request
        required=False,
        help_text="The mailboxes the campaign sends from (rotation; a thread stays on one)",
    )
    recipient_domain_daily_cap = serializers.IntegerField(
        min_value=1, max_value=campaigns.MAX_DOMAIN_DAILY_CAP, required=False
    )
    send_window_start = LocalTimeField(required=False, help_text="Recipient's local time")
    send_window_end = LocalTimeField(required=False, help_text="Recipient's local time")
    send_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        help_text="Weekdays to send on: 0 = Monday",
    )
    timezone = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="IANA name, used when a lead has none; blank: the workspace's",
    )
    pause_colleagues_on_reply = serializers.BooleanField(required=False)

    class Meta:
        model = Campaign
        fields = [*CAMPAIGN_FIELDS, "mailboxes", "steps"]


class ArmOutput(serializers.Serializer):
    name = serializers.CharField(help_text="In words, as on the campaign page")
    key = serializers.CharField(help_text="The variant key or the angle kind")
    step_order = serializers.IntegerField(allow_null=True)
    sends = serializers.IntegerField()
    replies = serializers.IntegerField()
    positives = serializers.IntegerField(help_text="Positive replies and booked meetings")
    positive_rate = serializers.FloatField(allow_null=True)
    interval_low = serializers.FloatField(allow_null=True, help_text="95% Wilson interval")
    interval_high = serializers.FloatField(allow_null=True)


class ABReportOutput(serializers.Serializer):
    variants = ArmOutput(many=True)
    angles = ArmOutput(many=True)


class EnrollInput(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)
    lead_ids = serializers.ListField(child=serializers.UUIDField(), required=False)


class EnrollOutput(serializers.Serializer):
    enrolled = serializers.IntegerField()
    enrollment_ids = serializers.ListField(child=serializers.UUIDField())
    skipped = serializers.DictField(child=serializers.IntegerField())


class UnenrollInput(serializers.Serializer):
    lead_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=1000)


class UnenrollOutput(serializers.Serializer):
    stopped = serializers.IntegerField(help_text="Active or paused enrollments stopped")


class EnrollmentOutput(WorkspaceSerializer):
    class Meta:
        model = Enrollment
        fields = [
            "id",
            "campaign",
            "lead",
            "current_step",
            "status",
            "stop_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MessageOutput(WorkspaceSerializer):
    lead = serializers.UUIDField(source="enrollment.lead_id", read_only=True)
    campaign = serializers.UUIDField(source="enrollment.campaign_id", read_only=True)
    step_order = serializers.IntegerField(source="step.order", read_only=True)
    citations = FactOutput(source="cited_facts", many=True, read_only=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "lead",
            "campaign",
            "enrollment",
            "step",
            "step_order",
            "kind",
            "status",
            "subject",
            "body",
            "citations",
            "angle",
            "drafter",
            "model",
            "prompt_version",
            "checks",
            "attempts",
            "failure_reason",
            "sampled_for_review",
            "reviewed_at",
            "approved_at",
            "mailbox",
            "to_email",
            "hold_reason",
            "sent_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApproveInput(serializers.Serializer):
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)
    body = serializers.CharField(required=False)
    confirm_held = serializers.BooleanField(
        default=False, help_text="Required (true) to approve a draft the checks held."
    )


class RejectInput(serializers.Serializer):
    reason = serializers.CharField()


class SettleInput(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=list(unknown.SETTLEMENTS.items()),
        help_text=f"`{unknown.SENT}`: the Sent folder has it; `{unknown.SEND_AGAIN}`: it does "
        "not, so send it again (in its window, from the same mailbox).",
    )


@extend_schema_view(
    create=extend_schema(request=CampaignInput, responses={201: CampaignOutput}),
    partial_update=extend_schema(request=CampaignInput, responses=CampaignOutput),
)
class CampaignViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Campaigns: list, read, create, edit, enroll leads, archive. No delete: a campaign's
    messages and outcomes are the record of what was sent; archive it instead."""

    model = Campaign
    serializer_class = CampaignOutput
    # Starting and stopping email is more than editing (sdr/auth.py, API key scopes).
    action_scopes = {"pause": "send", "resume": "send"}

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        return queryset.prefetch_related("steps", "mailboxes")

    def create(self, request: ApiRequest) -> Response:
        data = validated(CampaignInput, request.data, context=self.get_serializer_context())
        campaign = campaigns.campaign_create(
            workspace=request.workspace, may_auto_send=can_manage(request), **data
        )
        return Response(CampaignOutput(campaign).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Edit a campaign; setting `status` to `active` needs an active mailbox among
        `mailboxes` (409 otherwise)."""
        campaign = self.get_object()  # 404 for another workspace's id, before validation
        data = validated(
            CampaignInput, request.data, partial=True, context=self.get_serializer_context()
        )
        campaign = campaigns.campaign_update(
            campaign=campaign, may_auto_send=can_manage(request), **data
        )
        return Response(CampaignOutput(campaign).data)

    @extend_schema(request=None, responses=CampaignOutput)
    @action(detail=True, methods=["post"])
    def archive(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Archive the campaign: its active enrollments stop and no one can be enrolled
        into it again. Archiving an archived campaign changes nothing."""
        campaign = campaigns.campaign_archive(campaign=self.get_object())
        return Response(CampaignOutput(campaign).data)

    @extend_schema(request=None, responses=CampaignOutput)
    @action(detail=True, methods=["post"])
    def pause(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Stop sending for the whole campaign (drafting and review go on)."""
        return Response(CampaignOutput(campaigns.campaign_pause(campaign=self.get_object())).data)

    @extend_schema(request=None, responses=CampaignOutput)
    @action(detail=True, methods=["post"])
    def resume(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Start or restart sending; needs an active mailbox (409 otherwise)."""
        campaign = campaigns.campaign_resume(campaign=self.get_object())
        return Response(CampaignOutput(campaign).data)

    @extend_schema(request=None, responses=ABReportOutput)
    @action(detail=True, methods=["get"])
    def variants(self, request: ApiRequest, pk: str | None = None) -> Response:
        """The A/B report: per step variant and per angle kind, sends, replies, positive
        replies and the positive rate with its 95% interval."""
        report = ab.campaign_ab_report(campaign=self.get_object())
        return Response(ABReportOutput(report).data)

    @extend_schema(request=UnenrollInput, responses=UnenrollOutput)
    @action(detail=True, methods=["post"])
    def unenroll(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Take leads out of the campaign: their active or paused enrollments stop, and
        nothing more is sent to them from it. Leads not enrolled are ignored."""
        campaign = self.get_object()
        data = validated(UnenrollInput, request.data)
        stopped = enrollment.campaign_unenroll(campaign=campaign, lead_ids=data["lead_ids"])
        return Response({"stopped": stopped})

    @extend_schema(request=EnrollInput, responses=EnrollOutput)
    @action(detail=True, methods=["post"])
    def enroll(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Enroll the best-ranked eligible leads (or the ones named) and start drafting."""
        campaign = self.get_object()
        data = validated(EnrollInput, request.data)
        result = enrollment.campaign_enroll(
            campaign=campaign, limit=data["limit"], lead_ids=data.get("lead_ids")
        )
        return Response(
            {
                "enrolled": len(result.enrolled),
                "enrollment_ids": [e.pk for e in result.enrolled],
                "skipped": result.skipped,
            }
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.UUID, description="campaign id"),
            OpenApiParameter("status", OpenApiTypes.STR, description="enrollment status"),
        ]
    )
)
class EnrollmentViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Enrollments are made by `POST /campaigns/{id}/enroll/` and ended by
    `/campaigns/{id}/unenroll/`; here they are read, paused and resumed."""

    model = Enrollment
    action_scopes = {"pause": "send", "resume": "send"}
    serializer_class = EnrollmentOutput

    @extend_schema(request=None, responses=EnrollmentOutput)
    @action(detail=True, methods=["post"])
    def pause(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Hold an active enrollment: nothing more is sent until it is resumed."""
        paused = enrollment.enrollment_pause(enrollment=self.get_object())
        return Response(EnrollmentOutput(paused).data)

    @extend_schema(request=None, responses=EnrollmentOutput)
    @action(detail=True, methods=["post"])
    def resume(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Resume a paused enrollment, including one paused because a colleague at the
        same company answered. 409 if the lead is active in another campaign now."""
        resumed = enrollment.enrollment_resume(enrollment=self.get_object())
        return Response(EnrollmentOutput(resumed).data)

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        params = self.request.query_params
        filters = {"campaign_id": query_uuid(params, "campaign"), "status": params.get("status")}
        return queryset.filter(**{k: v for k, v in filters.items() if v})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("campaign", OpenApiTypes.UUID, description="campaign id"),
            OpenApiParameter(
                "status", OpenApiTypes.STR, description="message status; comma-separated"
            ),
        ]
    )
)
class MessageViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Drafts are read here and changed only by review: approve, unapprove (inside the
    undo window), reject, redraft; and a message whose send was interrupted is settled."""

    model = Message
    # Approving releases email; the other review acts go with it (API key scopes).
    action_scopes = {
        "approve": "send",
        "unapprove": "send",
        "reject": "send",
        "redraft": "send",
        "settle": "send",
    }
    serializer_class = MessageOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> QuerySet[Message]:
        params = self.request.query_params
        return selectors.message_list(
            workspace=self.request.workspace,
            status=params.get("status", ""),
            campaign_id=query_uuid(params, "campaign"),
        ).prefetch_related("cited_facts")

    @extend_schema(request=ApproveInput, responses=MessageOutput)
    @action(detail=True, methods=["post"])
    def approve(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Approve a draft for sending, optionally with edits (stored as feedback)."""
        message = self.get_object()
        data = validated(ApproveInput, request.data)
        message = review.message_approve(
            message=message,
            user=person(request),
            subject=data.get("subject"),
            body=data.get("body"),
            confirm_held=data["confirm_held"],
        )
        return Response(MessageOutput(self.get_queryset().get(pk=message.pk)).data)

    @extend_schema(request=None, responses=MessageOutput)
    @action(detail=True, methods=["post"])
    def unapprove(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Take an approval back while its undo window (`APPROVAL_GRACE_SECONDS` after
        approval) lasts: the draft returns to review. 409 once the window has passed or
        the message is queued or sent."""
        message = review.message_unapprove(message=self.get_object(), user=person(request))
        return Response(MessageOutput(self.get_queryset().get(pk=message.pk)).data)

    @extend_schema(request=RejectInput, responses=MessageOutput)
    @action(detail=True, methods=["post"])
    def reject(self, request: ApiRequest, pk: str | None = None) -> Response:
        message = self.get_object()
        data = validated(RejectInput, request.data)
        message = review.message_reject(
            message=message, user=person(request), reason=data["reason"]
        )
        return Response(MessageOutput(self.get_queryset().get(pk=message.pk)).data)

    @extend_schema(request=SettleInput, responses=MessageOutput)
    @action(detail=True, methods=["post"])
    def settle(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Say what became of a message whose send was interrupted (status `unknown`):
        `sent` records it as sent and its sequence goes on; `send_again` approves it
        again, to be sent in its window from the same mailbox with the same Message-ID.
        409 if it is not unknown (settled already, by a person or the Sent-folder check)."""
        message = self.get_object()
        data = validated(SettleInput, request.data)
        message = unknown.message_settle(message=message, outcome=data["outcome"])
        return Response(MessageOutput(self.get_queryset().get(pk=message.pk)).data)

    @extend_schema(request=None, responses={202: MessageOutput})
    @action(detail=True, methods=["post"])
    def redraft(self, request: ApiRequest, pk: str | None = None) -> Response:
        message = messages.message_redraft(message=self.get_object())
        return Response(
            MessageOutput(self.get_queryset().get(pk=message.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class OutcomeOutput(WorkspaceSerializer):
    class Meta:
        model = Outcome
        fields = [
            "id",
            "lead",
            "kind",
            "evidence",
            "evidence_type",
            "evidence_id",
            "occurred_at",
            "source",
            "created_at",
        ]
        read_only_fields = fields


class OutcomeInput(WorkspaceSerializer):
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: now")

    class Meta:
        model = Outcome
        fields = ["lead", "kind", "evidence", "occurred_at"]
        # The same lead and kind again is not an error: outcome_record returns the first.
        validators: list = []


class OutcomeDisputeInput(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="Why the charge is wrong")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("lead", OpenApiTypes.UUID, description="lead id"),
            OpenApiParameter("kind", OpenApiTypes.STR, description="outcome kind"),
        ]
    )
)
class OutcomeViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """What came of contacting each lead: one per lead and kind, with its evidence."""

    model = Outcome
    serializer_class = OutcomeOutput

    def scope_queryset(self, queryset: TenantQuerySet) -> TenantQuerySet:
        params = self.request.query_params
        filters = {"lead_id": query_uuid(params, "lead"), "kind": params.get("kind")}
        return queryset.filter(**{k: v for k, v in filters.items() if v})

    @extend_schema(request=OutcomeInput, responses={201: OutcomeOutput, 200: OutcomeOutput})
    def create(self, request: ApiRequest) -> Response:
        """Record an outcome (e.g. a meeting booked in the CRM). The same lead and kind
        again answers 200 with the outcome already recorded."""
        data = validated(OutcomeInput, request.data, context=self.get_serializer_context())
        outcome, created = outcomes.outcome_record(
            lead=data["lead"],
            kind=data["kind"],
            evidence=data["evidence"],
            occurred_at=data.get("occurred_at"),
            source=Outcome.Source.API,
            user=person(request),
        )
        return Response(
            OutcomeOutput(outcome).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=OutcomeDisputeInput, responses=BillableEventOutput)
    @action(detail=True, methods=["post"])
    def dispute(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Dispute the charge for this outcome (the same as disputing its billing event):
        within the plan's window, with a reason. 409 when the outcome was not billed."""
        outcome = self.get_object()
        data = validated(OutcomeDisputeInput, request.data)
        event = BillableEvent.objects.for_workspace(request.workspace).filter(outcome=outcome)
        billed = event.first()
        if billed is None:
            raise AppError(
                ErrorCode.CONFLICT,
                "This outcome was not billed: there is nothing to dispute.",
                status_code=409,
            )
        billed = event_dispute(event=billed, reason=data["reason"], user=person(request))
        return Response(BillableEventOutput(billed).data)


class MailboxOutput(WorkspaceSerializer):
    """A mailbox as clients see it: never a password, only whether one is set."""

    has_smtp_password = serializers.SerializerMethodField()
    has_imap_password = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = [
            "id",
            *[f for f in mailboxes.MAILBOX_FIELDS if f not in mailboxes.SECRET_FIELDS],
            "has_smtp_password",
            "has_imap_password",
            "warmup_started_on",
            "last_tested_at",
            "last_test_result",
            "last_sent_at",
            "imap_polled_at",
            "imap_last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_has_smtp_password(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.smtp_password)

    def get_has_imap_password(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.imap_password)


class MailboxInput(serializers.Serializer):
    from_email = serializers.EmailField(max_length=254)
    from_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    smtp_host = serializers.CharField(max_length=253)
    smtp_port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    smtp_security = serializers.ChoiceField(Mailbox.Security.choices, required=False)
    smtp_username = serializers.CharField(max_length=254, required=False, allow_blank=True)
    smtp_password = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        help_text="Write-only; left out of an update, the stored one is kept",
    )
    imap_host = serializers.CharField(max_length=253, required=False, allow_blank=True)
    imap_port = serializers.IntegerField(
        min_value=1, max_value=65535, required=False, allow_null=True
    )
    imap_security = serializers.ChoiceField(Mailbox.Security.choices, required=False)
    imap_username = serializers.CharField(max_length=254, required=False, allow_blank=True)
    imap_password = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        help_text="Write-only; left out of an update, the stored one is kept",
    )
    daily_cap = serializers.IntegerField(
        min_value=1, max_value=mailboxes.MAX_DAILY_CAP, required=False
    )
    min_interval_seconds = serializers.IntegerField(
        min_value=0, max_value=mailboxes.MAX_MIN_INTERVAL_SECONDS, required=False
    )
    warmup_enabled = serializers.BooleanField(required=False, help_text="Off unless asked for")
    warmup_start = serializers.IntegerField(
        min_value=1, max_value=mailboxes.MAX_WARMUP_STEP, required=False
    )
    warmup_increment = serializers.IntegerField(
        min_value=1, max_value=mailboxes.MAX_WARMUP_STEP, required=False
    )
    signature = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    postal_address = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="IANA name"
    )
    status = serializers.ChoiceField(Mailbox.Status.choices, required=False)


class MailboxTestOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    smtp = serializers.CharField(help_text="OK, or what failed in plain words")
    imap = serializers.CharField(allow_null=True, help_text="null when no IMAP server is set")
    tested_at = serializers.DateTimeField()


@extend_schema_view(
    create=extend_schema(request=MailboxInput, responses={201: MailboxOutput}),
    partial_update=extend_schema(request=MailboxInput, responses=MailboxOutput),
)
class MailboxViewSet(
    WorkspaceScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The workspace's own mailboxes that campaigns send from: list, read, add, edit and
    test. No delete: messages sent from a mailbox keep pointing at it; pause it instead.
    Passwords are write-only."""

    model = Mailbox
    # Mailbox credentials are the keys to the customer's email (API key scopes).
    action_scopes = {"create": "admin", "partial_update": "admin"}
    serializer_class = MailboxOutput

    def create(self, request: ApiRequest) -> Response:
        data = validated(MailboxInput, request.data)
        mailbox = mailboxes.mailbox_create(workspace=request.workspace, **data)
        return Response(MailboxOutput(mailbox).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: ApiRequest, pk: str | None = None) -> Response:
        mailbox = self.get_object()  # 404 for another workspace's id, before validation
        data = validated(MailboxInput, request.data, partial=True)
        mailbox = mailboxes.mailbox_update(mailbox=mailbox, **data)
        return Response(MailboxOutput(mailbox).data)

    @extend_schema(request=None, responses=MailboxTestOutput)
    @action(detail=True, methods=["post"])
    def test(self, request: ApiRequest, pk: str | None = None) -> Response:
        """Connect and sign in to the SMTP server (and IMAP, when set); answers what failed
        in plain words. The result is also stored on the mailbox."""
        result = mailboxes.mailbox_test(mailbox=self.get_object())
        return Response(
            MailboxTestOutput(
                {
                    "ok": result.ok,
                    "smtp": result.smtp,
                    "imap": result.imap,
                    "tested_at": result.tested_at,
                }
            ).data
        )
