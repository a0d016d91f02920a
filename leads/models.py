"""Companies, leads, and what we learned about them (facts and signals), with provenance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from sdr.states import Leased
from sdr.tenancy import TenantModel


class Company(TenantModel, Leased):
    class EnrichStatus(models.TextChoices):
        NEVER = "never", "Never enriched"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    # Registrable domain ("acme.co.uk"), lowercase, no "www.": the company's identity.
    domain = models.CharField(max_length=253)
    name = models.CharField(max_length=200, blank=True)
    website = models.URLField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    industry = models.CharField(max_length=120, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=40, blank=True)
    contact_emails = models.JSONField(default=list, blank=True)
    socials = models.JSONField(default=dict, blank=True, help_text="network -> profile URL")
    tech_stack = models.JSONField(default=list, blank=True)
    open_roles_count = models.PositiveIntegerField(null=True, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    # field -> {"fact": fact id, "source": url, "why": reason it won, "alternatives": n}
    field_sources = models.JSONField(default=dict, blank=True)

    enrich_status = models.CharField(
        max_length=10, choices=EnrichStatus.choices, default=EnrichStatus.NEVER
    )
    enrich_error = models.TextField(blank=True)
    enriched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="research runs started")

    class Meta:
        verbose_name_plural = "companies"
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain"], name="company_domain_unique"),
        ]
        # The lists' orders, each ending in id so keyset paging has a total order. Trigram
        # indexes for search are in migration 0006 (PostgreSQL only).
        indexes = [
            models.Index(fields=["workspace", "created_at", "id"], name="company_ws_created"),
            models.Index(fields=["workspace", "name", "domain", "id"], name="company_ws_name"),
        ]

    def __str__(self) -> str:
        return self.name or self.domain


class Lead(TenantModel):
    class Status(models.TextChoices):
        NEW = "new", "New"
        ACTIVE = "active", "In a campaign"
        REPLIED = "replied", "Replied"
        MEETING = "meeting", "Meeting booked"
        NOT_INTERESTED = "not_interested", "Not interested"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        DO_NOT_CONTACT = "do_not_contact", "Do not contact"

    class Seniority(models.TextChoices):
        FOUNDER = "founder", "Founder / owner"
        C_LEVEL = "c_level", "C-level"
        VP = "vp", "VP"
        HEAD = "head", "Head of"
        DIRECTOR = "director", "Director"
        MANAGER = "manager", "Manager"
        SENIOR = "senior", "Senior individual contributor"
        ENTRY = "entry", "Individual contributor"
        UNKNOWN = "", "Unknown"

    class Source(models.TextChoices):
        CSV = "csv", "CSV import"
        API = "api", "API"
        WEB = "web", "Web UI"
        ENRICHMENT = "enrichment", "Found while enriching"
        REFERRAL = "referral", "Referred in a reply"

    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    # Normalized (see leads.normalize.email_normalize); blank for people found on team
    # pages without an address.
    email = models.EmailField(max_length=254, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=10, choices=Seniority.choices, blank=True)
    department = models.CharField(max_length=40, blank=True)
    linkedin_url = models.URLField(max_length=500, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA name")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WEB)
    external_id = models.CharField(max_length=200, blank=True, help_text="The CRM's id")
    custom_fields = models.JSONField(default=dict, blank=True)
    # Written by the ranking (see the ranking app): the chance of a positive outcome, the
    # features that moved it most, and whether it came from the learned model or only the
    # ideal customer profile (cold start). Product-owned: the CRM sync never writes these.
    score = models.FloatField(null=True, blank=True)
    score_reasons = models.JSONField(default=list, blank=True)
    score_basis = models.CharField(max_length=10, blank=True, help_text="profile or model")
    scored_at = models.DateTimeField(null=True, blank=True)
    # The last time a seller's work reached the person or they answered: an email sent to
    # them, a reply from them, an outcome. Kept here (leads_touch) rather than read from
    # the activity log so the list can sort a million leads by it through an index.
    last_activity_at = models.DateTimeField(null=True, blank=True)
    tags: models.ManyToManyField[Tag, LeadTag] = models.ManyToManyField(
        "Tag", through="LeadTag", related_name="leads", blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"], condition=~Q(email=""), name="lead_email_unique"
            ),
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="lead_external_id_unique",
            ),
        ]
        # The lists' filters and orders, each ending in id for keyset paging. The old
        # (workspace, status) index is a prefix of the second and is dropped.
        indexes = [
            models.Index(fields=["workspace", "created_at", "id"], name="lead_ws_created"),
            models.Index(
                fields=["workspace", "status", "created_at", "id"], name="lead_ws_status_created"
            ),
            models.Index(fields=["company", "created_at", "id"], name="lead_company_created"),
            models.Index(fields=["workspace", "score", "id"], name="lead_ws_score"),
            models.Index(
                fields=["workspace", "last_name", "first_name", "id"], name="lead_ws_name"
            ),
            models.Index(fields=["workspace", "title", "id"], name="lead_ws_title"),
        ]
        # And, for the orders sellers use most, latest activity and best score first
        # (NULLs last, which an ascending index cannot give): lead_ws_last_activity and
        # lead_ws_score_best on (workspace, <column> DESC NULLS LAST, id DESC). Made by
        # migration 0010 on PostgreSQL only: SQLite (the demo) refuses NULLS LAST in an
        # index, and would meet it again in every table rebuild.

    def __str__(self) -> str:
        return self.full_name or self.email or str(self.pk)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Fact(TenantModel):
    """One observed value with its evidence: the only thing an email may claim about a lead."""

    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="facts"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="facts"
    )
    field = models.CharField(max_length=60)
    value = models.JSONField()
    source_url = models.URLField(max_length=1000, blank=True)
    source_kind = models.CharField(max_length=20, help_text="website, structured, csv, api")
    evidence = models.TextField(blank=True, help_text="The snippet the value was read from")
    confidence = models.FloatField(default=0.5)
    extractor = models.CharField(max_length=60)
    observed_at = models.DateTimeField()
    # sha256 of (field, value, source_url): re-enriching refreshes observed_at, not duplicates.
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["field", "-confidence"]
        constraints = [
            models.CheckConstraint(
                condition=Q(company__isnull=False) | Q(lead__isnull=False),
                name="fact_has_subject",
            ),
            models.UniqueConstraint(
                fields=["workspace", "fingerprint"], name="fact_fingerprint_unique"
            ),
            models.CheckConstraint(
                condition=Q(confidence__gte=0) & Q(confidence__lte=1),
                name="fact_confidence_range",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "field"]),
            models.Index(fields=["lead", "field"]),
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}"


class Signal(TenantModel):
    """A dated event at a company: a reason to write now."""

    class Kind(models.TextChoices):
        FUNDING = "funding", "Funding"
        HIRING = "hiring", "Hiring"
        PRODUCT_LAUNCH = "product_launch", "Product launch"
        LEADERSHIP_CHANGE = "leadership_change", "Leadership change"
        NEWS = "news", "News"
        TECH_ADOPTION = "tech_adoption", "Tech adoption"

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    happened_on = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_url = models.URLField(max_length=1000, blank=True)
    evidence = models.TextField(blank=True)
    observed_at = models.DateTimeField()
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["-happened_on", "-observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "fingerprint"], name="signal_fingerprint_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class ImportJob(TenantModel, Leased):
    """A CSV upload: its file, its column mapping, its progress and its rejected rows."""

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    # Uploads from before ImportFileChunk kept the file here; new ones leave it empty.
    content = models.BinaryField(blank=True, default=b"")
    columns = models.JSONField(default=list, help_text="header row as uploaded")
    mapping = models.JSONField(default=dict, help_text="CSV column -> lead field")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # Rows that repeat a lead earlier in the same batch: merged into it and counted here,
    # so created + updated + duplicates + errors = rows.
    duplicate_count = models.PositiveIntegerField(default=0)
    # Rows imported with a value cut or left out (counted among created and updated too).
    warning_count = models.PositiveIntegerField(default=0)
    # Batches committed so far: a resumed run starts after them.
    batches_done = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ImportFileChunk(TenantModel):
    """One piece of an uploaded file, in order. Kept in the database so a worker on another
    host can read it; in pieces, because a 27 MB file written as one value is one huge
    INSERT and a value every query on the job could drag along."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["seq"]
        constraints = [
            models.UniqueConstraint(fields=["job", "seq"], name="import_chunk_seq_unique")
        ]


class ImportRowError(TenantModel):
    """A row refused, with its reasons, or (kept) a row imported with a value cut to fit."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField(help_text="1-based line in the file, header is line 1")
    kept = models.BooleanField(default=False, help_text="imported, with this warning")
    reason = models.TextField()
    raw = models.JSONField(default=dict, help_text="the row as read")

    class Meta:
        ordering = ["line"]


class WebPage(TenantModel):
    """The last fetch of one page of a company's site: validators for conditional requests,
    and the links it had, so a page that answers 304 still guides the crawl."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="pages")
    url = models.URLField(max_length=1000)
    kind = models.CharField(max_length=20, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    links = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering = ["url"]
        constraints = [
            models.UniqueConstraint(fields=["company", "url"], name="webpage_company_url_unique"),
        ]

    def __str__(self) -> str:
        return self.url


class Suppression(TenantModel):
    """An address or a whole domain this workspace must never write to.

    Only `value_hash` is needed to match, so an erased person's entry keeps no address.
    Nothing that writes leads reads or writes this table; it is lifted only explicitly.
    """

    class Kind(models.TextChoices):
        ADDRESS = "address", "Email address"
        DOMAIN = "domain", "Domain"

    class Source(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"
        BOUNCE = "bounce", "Bounce"
        REPLY = "reply", "Reply"
        IMPORT = "import", "Import"
        API = "api", "API"
        UI = "ui", "Web UI"
        ERASURE = "erasure", "Erasure request"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The normalized address or domain; blank when only the hash is kept (erasure).
    value = models.CharField(max_length=254, blank=True)
    value_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "value_hash"], name="suppression_value_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.value or f"(erased {self.kind})"


class SavedView(TenantModel):
    """A named set of the leads list's filters and sort, shared with the whole workspace:
    "Series A in retail, no email yet", one click away for everyone on the team."""

    name = models.CharField(max_length=80)
    # The list's query string, kept to the filters and the sort it knows (leads.views).
    query = models.CharField(max_length=1000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="saved_view_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TenantModel):
    """A team's own label for leads ("met at SaaStr", "warm intro"), to find them again and
    act on them together. Names are unique in a workspace whatever their case."""

    MAX_NAME = 40

    name = models.CharField(max_length=MAX_NAME)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "workspace", name="tag_name_unique_ci")
        ]

    def __str__(self) -> str:
        return self.name


class LeadTag(TenantModel):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        # Tag first: the list's tag filter looks up leads by tag.
        constraints = [models.UniqueConstraint(fields=["tag", "lead"], name="lead_tag_once")]

    def __str__(self) -> str:
        return f"{self.tag} on {self.lead}"
