"""Campaigns, their sequences, who is enrolled, and the messages drafted for them."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from sdr.fields import EncryptedTextField
from sdr.states import Leased
from sdr.tenancy import TenantModel


def _weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]  # Monday to Friday (datetime.weekday())


class Mailbox(TenantModel):
    """The customer's own mailbox that a campaign sends from (and, later, reads replies of).

    Passwords are encrypted at rest and never serialized; hosts are vetted like research
    URLs before any connection (see outreach/smtp.py).
    """

    class Security(models.TextChoices):
        NONE = "none", "None (plain, loopback only)"
        STARTTLS = "starttls", "STARTTLS"
        TLS = "tls", "TLS"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        FAILING = "failing", "Failing"

    from_name = models.CharField(max_length=120, blank=True)
    from_email = models.EmailField(max_length=254)
    smtp_host = models.CharField(max_length=253)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_security = models.CharField(
        max_length=10, choices=Security.choices, default=Security.STARTTLS
    )
    smtp_username = models.CharField(max_length=254, blank=True)
    smtp_password = EncryptedTextField(blank=True)
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(null=True, blank=True)
    imap_security = models.CharField(
        max_length=10, choices=Security.choices, default=Security.TLS, blank=True
    )
    imap_username = models.CharField(max_length=254, blank=True)
    imap_password = EncryptedTextField(blank=True)
    daily_cap = models.PositiveIntegerField(default=50)
    min_interval_seconds = models.PositiveIntegerField(default=120)
    # Warm-up: a new mailbox sends `warmup_start` a day, `warmup_increment` more each day,
    # up to `daily_cap`. Off unless asked for.
    warmup_enabled = models.BooleanField(default=False)
    warmup_start = models.PositiveIntegerField(default=5)
    warmup_increment = models.PositiveIntegerField(default=5)
    warmup_started_on = models.DateField(null=True, blank=True)
    signature = models.TextField(blank=True)
    postal_address = models.TextField(blank=True, help_text="The sender's postal address")
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA name")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.TextField(blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    # DKIM signing (outreach/mime.py) when a selector and a private key (PEM) are set; the
    # domain defaults to the From address's. The public key is published by the customer
    # at <selector>._domainkey.<domain>.
    dkim_selector = models.CharField(max_length=63, blank=True)
    dkim_domain = models.CharField(max_length=253, blank=True)
    dkim_private_key = EncryptedTextField(blank=True)
    # IMAP polling state (outreach/replies/imap.py): a message is read once per
    # UIDVALIDITY; when the server changes UIDVALIDITY the folder is read again and the
    # raw-message hash keeps what was already stored from being stored twice.
    imap_folder = models.CharField(max_length=200, blank=True, default="INBOX")
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    imap_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    imap_last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["from_email"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "from_email"], name="mailbox_address_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_name} <{self.from_email}>" if self.from_name else self.from_email


class Campaign(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        ARCHIVED = "archived", "Archived"

    class Autonomy(models.TextChoices):
        DRAFT_ONLY = "draft_only", "Draft only"
        APPROVE = "approve", "Approve before send"
        AUTO_SEND = "auto_send", "Auto-send, sampled review"

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The seller's offer: the stable part of every prompt of this campaign.
    product = models.TextField(help_text="What is being sold, in a sentence or two")
    value_propositions = models.JSONField(default=list, blank=True)
    proof_points = models.JSONField(default=list, blank=True)
    case_studies = models.JSONField(default=list, blank=True, help_text="[{title, summary, url}]")
    call_to_action = models.CharField(max_length=300)
    tone = models.CharField(max_length=200, blank=True, default="friendly, direct, no hype")
    style_guide = models.TextField(blank=True)
    example_emails = models.JSONField(default=list, blank=True, help_text="[{subject, body}]")
    language = models.CharField(max_length=10, default="en")
    # Links, addresses and numbers an email may contain: only these came from us.
    allowed_links = models.JSONField(default=list, blank=True)
    # Names drafts must never mention (issue #10): the verifier holds a draft that does.
    competitors = models.JSONField(default=list, blank=True)
    sender_name = models.CharField(max_length=120, blank=True)
    sender_title = models.CharField(max_length=120, blank=True)
    sender_company = models.CharField(max_length=200, blank=True)
    autonomy = models.CharField(max_length=12, choices=Autonomy.choices, default=Autonomy.APPROVE)
    review_sample_share = models.FloatField(
        default=0.1, help_text="With auto-send: the share of drafts a person still reviews"
    )
    max_words_first_touch = models.PositiveSmallIntegerField(default=120)
    max_words_follow_up = models.PositiveSmallIntegerField(default=80)
    # Sending: from these mailboxes (a thread stays on the one that started it), inside the
    # recipient's local window, under a per-recipient-domain daily cap.
    mailboxes = models.ManyToManyField(Mailbox, blank=True, related_name="campaigns")
    recipient_domain_daily_cap = models.PositiveIntegerField(default=20)
    send_window_start = models.TimeField(default=datetime.time(8, 0))
    send_window_end = models.TimeField(default=datetime.time(18, 0))
    send_days = models.JSONField(default=_weekdays, blank=True, help_text="0 = Monday")
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA name")
    pause_colleagues_on_reply = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_sample_share__gte=0) & Q(review_sample_share__lte=1),
                name="campaign_review_share_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SequenceStep(TenantModel):
    class Kind(models.TextChoices):
        FIRST_TOUCH = "first_touch", "First touch"
        FOLLOW_UP = "follow_up", "Follow-up"
        BREAK_UP = "break_up", "Break-up"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    delay_business_days = models.PositiveSmallIntegerField(
        default=0, help_text="Business days after the previous step"
    )
    instructions = models.TextField(blank=True)
    # A/B variants of this step (outreach/variants.py): [{key, label, instructions}]. Each
    # draft uses one, chosen by the campaign's bandit; a variant's instructions replace the
    # step's. Empty: every draft uses the step as it is.
    variants = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["campaign", "order"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "order"], name="step_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign}: step {self.order} ({self.get_kind_display()})"


class Enrollment(TenantModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        REPLIED = "replied", "Replied"
        FINISHED = "finished", "Finished"
        STOPPED = "stopped", "Stopped"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    current_step = models.ForeignKey(
        SequenceStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    stop_reason = models.CharField(max_length=300, blank=True)
    # The mailbox the thread started on: every later step goes out from it.
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="enrollments"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"], name="enrollment_once"),
            # The database, not only the code, keeps a lead in one active campaign at a time.
            models.UniqueConstraint(
                fields=["workspace", "lead"],
                condition=Q(status="active"),
                name="enrollment_one_active_per_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} in {self.campaign}"


class Message(TenantModel, Leased):
    class Status(models.TextChoices):
        DRAFTING = "drafting", "Drafting"
        HELD = "held", "Held for a person"
        PENDING_REVIEW = "pending_review", "Waiting for review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        QUEUED = "queued", "Queued to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        UNKNOWN = "unknown", "Unknown: check before sending again"
        FAILED = "failed", "Failed"

    class Drafter(models.TextChoices):
        LLM = "llm", "LLM"
        OFFLINE = "offline", "Offline drafter (no model)"

    class Kind(models.TextChoices):
        SEQUENCE = "sequence", "Sequence step"
        # A person's answer to a reply, in the same thread: it goes after the sequence
        # stopped (the reply stopped it), and is not one per step.
        ANSWER = "answer", "Answer to a reply"

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SEQUENCE)
    step = models.ForeignKey(SequenceStep, on_delete=models.PROTECT, related_name="messages")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFTING)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    cited_facts = models.ManyToManyField("leads.Fact", blank=True, related_name="+")
    angle = models.JSONField(default=dict, blank=True, help_text="{kind, summary, fact, signal}")
    # The step variant this draft used ("" when the step has none): the A/B report's key.
    variant = models.CharField(max_length=40, blank=True)
    drafter = models.CharField(max_length=8, choices=Drafter.choices, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=40, blank=True)
    checks = models.JSONField(default=list, blank=True, help_text="[{name, passed, detail}]")
    attempts = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.TextField(blank=True)
    sampled_for_review = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Sending. `approved_at` starts the undo window; `due_at` is the earliest the step may
    # go (business days after the previous one); the dispatcher adds window and caps.
    approved_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    to_email = models.EmailField(max_length=254, blank=True, help_text="As sent")
    # Our Message-ID, generated and stored before the SMTP call; threading headers.
    message_id_header = models.CharField(max_length=255, blank=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    smtp_response = models.TextField(blank=True)
    # Why an approved message is not going out now, in words for the UI.
    hold_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "step"],
                condition=Q(kind="sequence"),
                name="message_once_per_step",
            ),
            models.UniqueConstraint(
                fields=["message_id_header"],
                condition=~Q(message_id_header=""),
                name="message_id_header_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "status"]),
            models.Index(fields=["status", "due_at"], name="message_dispatch"),
        ]

    def __str__(self) -> str:
        return self.subject or f"Message {self.pk}"


class MessageFeedback(TenantModel):
    """What a reviewer did to a draft: the raw material for learning what to write."""

    class Kind(models.TextChoices):
        APPROVED = "approved", "Approved as written"
        EDITED = "edited", "Edited"
        REJECTED = "rejected", "Rejected"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField(blank=True)
    subject_before = models.CharField(max_length=300, blank=True)
    body_before = models.TextField(blank=True)
    subject_after = models.CharField(max_length=300, blank=True)
    body_after = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]


class Outcome(TenantModel):
    """What came of contacting a lead: one per lead and kind, with what proves it."""

    class Kind(models.TextChoices):
        POSITIVE_REPLY = "positive_reply", "Positive reply"
        MEETING_BOOKED = "meeting_booked", "Meeting booked"
        NOT_INTERESTED = "not_interested", "Not interested"
        BOUNCED = "bounced", "Bounced"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        NO_RESPONSE = "no_response", "No response"

    class Source(models.TextChoices):
        REPLY = "reply", "Reply"
        API = "api", "API"
        UI = "ui", "Web UI"
        SYSTEM = "system", "System"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    evidence = models.TextField(help_text="What proves it: the reply, the booking, who said so")
    # The row that proves it, when there is one ("message", id; later "reply", id).
    evidence_type = models.CharField(max_length=30, blank=True)
    evidence_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind"], name="outcome_once_per_lead_and_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.lead_id})"


class InboundEmail(TenantModel, Leased):
    """A raw message as it arrived, stored before anything parses it.

    Parsing reads `raw` and may be run again (a parser fix replays what failed). A message
    that cannot be parsed stays here, flagged UNPARSEABLE with the error, never dropped.
    """

    class Source(models.TextChoices):
        IMAP = "imap", "IMAP"
        WEBHOOK = "webhook", "Inbound webhook"
        FILE = "file", "File (ingest_eml)"
        DEMO = "demo", "Demo"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PROCESSED = "processed", "Processed"
        UNPARSEABLE = "unparseable", "Could not be parsed"
        UNMATCHED = "unmatched", "Not a reply to us"

    source = models.CharField(max_length=10, choices=Source.choices)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound"
    )
    raw = models.BinaryField()
    raw_sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_uid = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The same bytes twice (a webhook retried, a folder read again after a
            # UIDVALIDITY change) are one message.
            models.UniqueConstraint(fields=["workspace", "raw_sha256"], name="inbound_once"),
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return f"Inbound {self.source} {self.raw_sha256[:12]}"


class Reply(TenantModel):
    """An inbound message understood: who wrote, to which of our messages, what it says,
    what it means, and what was done about it."""

    class Category(models.TextChoices):
        INTERESTED = "interested", "Interested"
        MEETING_REQUEST = "meeting_request", "Meeting request"
        QUESTION = "question", "Question"
        NOT_NOW = "not_now", "Not now"
        NOT_INTERESTED = "not_interested", "Not interested"
        WRONG_PERSON = "wrong_person", "Wrong person / referral"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe request"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        BOUNCE = "bounce", "Bounce"
        OTHER = "other", "Other"

    class Classifier(models.TextChoices):
        RULES = "rules", "Rules"
        LLM = "llm", "Model"
        PERSON = "person", "A person"

    class ThreadMatch(models.TextChoices):
        IN_REPLY_TO = "in_reply_to", "In-Reply-To header"
        REFERENCES = "references", "References header"
        ADDRESS_SUBJECT = "address_subject", "Sender and subject"
        ADDRESS = "address", "Sender address"
        COLLEAGUE = "colleague", "A colleague of the lead"
        BOUNCED_ADDRESS = "bounced_address", "Address in a bounce"
        NONE = "none", "No thread found"

    class SuggestionStatus(models.TextChoices):
        NONE = "none", "None"
        DRAFTING = "drafting", "Drafting"
        READY = "ready", "Ready"
        HELD = "held", "Held for a person"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    inbound = models.OneToOneField(InboundEmail, on_delete=models.CASCADE, related_name="reply")
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    enrollment = models.ForeignKey(
        Enrollment, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    # Our message it answers (or the last one sent to the thread's lead).
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    thread_match = models.CharField(
        max_length=16, choices=ThreadMatch.choices, default=ThreadMatch.NONE
    )
    # As parsed (untrusted text: escaped when shown, quoted as data in prompts).
    from_email = models.CharField(max_length=254, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    message_id_header = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header")
    received_at = models.DateTimeField()
    text = models.TextField(blank=True, help_text="The whole body as text")
    visible_text = models.TextField(blank=True, help_text="The new part, without quotes")
    language = models.CharField(max_length=10, blank=True)
    is_auto_reply = models.BooleanField(default=False)
    out_of_office_until = models.DateField(null=True, blank=True)
    is_bounce = models.BooleanField(default=False)
    bounced = models.JSONField(default=list, blank=True, help_text="[{address, permanent}]")
    category = models.CharField(max_length=16, choices=Category.choices, default=Category.OTHER)
    confidence = models.FloatField(default=0.0)
    classifier = models.CharField(
        max_length=8, choices=Classifier.choices, default=Classifier.RULES
    )
    classification_reason = models.CharField(max_length=500, blank=True)
    # A wrong-person reply that names who to write to instead: {name, email, title}.
    referral = models.JSONField(default=dict, blank=True)
    # What was done: [{action, detail}], for the timeline and the inbox.
    actions = models.JSONField(default=list, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    # A suggested answer for a person to edit and send in the same thread.
    suggestion_status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.NONE
    )
    suggested_subject = models.CharField(max_length=300, blank=True)
    suggested_body = models.TextField(blank=True)
    suggestion_checks = models.JSONField(default=list, blank=True)
    answer = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="answers_reply"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["workspace", "category"]),
            models.Index(fields=["workspace", "received_at"]),
        ]

    def __str__(self) -> str:
        return self.subject or f"Reply {self.pk}"


class ReplyLabel(TenantModel):
    """A person's correction of a reply's category: kept as a label to learn from."""

    reply = models.ForeignKey(Reply, on_delete=models.CASCADE, related_name="labels")
    category_before = models.CharField(max_length=16, choices=Reply.Category.choices)
    category_after = models.CharField(max_length=16, choices=Reply.Category.choices)
    classifier_before = models.CharField(max_length=8, choices=Reply.Classifier.choices)
    confidence_before = models.FloatField(default=0.0)
    note = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
