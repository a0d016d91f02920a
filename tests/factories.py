"""factory_boy factories. `TENANT_FACTORIES` must name one for every TenantModel: the
isolation test creates a row of each in another workspace and probes every route with it,
and `workspace_populate` puts one of each in the neighbour every database test has."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from leads.contactability import suppression_hash
from leads.models import (
    Company,
    Fact,
    ImportFileChunk,
    ImportJob,
    ImportRowError,
    Lead,
    LeadTag,
    SavedView,
    Signal,
    Suppression,
    Tag,
    WebPage,
)
from outreach.models import (
    Campaign,
    Enrollment,
    InboundEmail,
    Mailbox,
    Message,
    MessageFeedback,
    Outcome,
    Reply,
    ReplyLabel,
    SequenceStep,
)
from sdr.models import (
    Activity,
    LLMCall,
    Membership,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
    WorkspaceAPIKey,
)


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.SelfAttribute("username")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


def api_key_factory(*, workspace: Workspace, name: str = "key") -> WorkspaceAPIKey:
    api_key, _ = WorkspaceAPIKey.objects.create_key(workspace=workspace, name=name)
    return api_key


class TenantFactory(factory.django.DjangoModelFactory):
    """Creates through `unscoped_objects`: `objects` refuses queries without a workspace."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class):
        return model_class.unscoped_objects


class CompanyFactory(TenantFactory):
    class Meta:
        model = Company

    workspace = factory.SubFactory(WorkspaceFactory)
    domain = factory.Sequence(lambda n: f"company{n}.example")
    name = factory.Sequence(lambda n: f"Company {n}")


class LeadFactory(TenantFactory):
    class Meta:
        model = Lead

    workspace = factory.SubFactory(WorkspaceFactory)
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))
    email = factory.Sequence(lambda n: f"person{n}@company.example")
    first_name = "Dana"
    last_name = factory.Sequence(lambda n: f"Lee{n}")
    title = "VP Sales"


class FactFactory(TenantFactory):
    class Meta:
        model = Fact

    workspace = factory.SubFactory(WorkspaceFactory)
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))
    field = "description"
    value = "Robots for warehouses."
    source_url = "https://company.example/about"
    source_kind = "website"
    evidence = "We build robots for warehouses."
    confidence = 0.8
    extractor = "meta"
    observed_at = factory.LazyFunction(timezone.now)
    fingerprint = factory.Sequence(lambda n: f"{n:064d}")


class SignalFactory(TenantFactory):
    class Meta:
        model = Signal

    workspace = factory.SubFactory(WorkspaceFactory)
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))
    kind = Signal.Kind.FUNDING
    title = "Raised a $12M Series A"
    observed_at = factory.LazyFunction(timezone.now)
    fingerprint = factory.Sequence(lambda n: f"s{n:063d}")


class WebPageFactory(TenantFactory):
    class Meta:
        model = WebPage

    workspace = factory.SubFactory(WorkspaceFactory)
    company = factory.SubFactory(CompanyFactory, workspace=factory.SelfAttribute("..workspace"))
    url = factory.Sequence(lambda n: f"https://company.example/page-{n}")
    kind = "about"
    status_code = 200
    fetched_at = factory.LazyFunction(timezone.now)


class ImportJobFactory(TenantFactory):
    class Meta:
        model = ImportJob

    workspace = factory.SubFactory(WorkspaceFactory)
    filename = "leads.csv"
    content = b"email,first_name\ndana@acme.example,Dana\n"
    columns = ["email", "first_name"]
    mapping = {"email": "email", "first_name": "first_name"}


class ImportFileChunkFactory(TenantFactory):
    class Meta:
        model = ImportFileChunk

    workspace = factory.SubFactory(WorkspaceFactory)
    job = factory.SubFactory(ImportJobFactory, workspace=factory.SelfAttribute("..workspace"))
    seq = factory.Sequence(int)
    data = b"email,first_name\n"


class ImportRowErrorFactory(TenantFactory):
    class Meta:
        model = ImportRowError

    workspace = factory.SubFactory(WorkspaceFactory)
    job = factory.SubFactory(ImportJobFactory, workspace=factory.SelfAttribute("..workspace"))
    line = 3
    reason = "'not-an-email' is not a valid email address"
    raw = {"email": "not-an-email"}


class CampaignFactory(TenantFactory):
    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    product = "Pallet-picking robots that pay for themselves in a year"
    value_propositions = ["Cut picking labour by 40%", "Live in six weeks"]
    proof_points = ["Used by 30 warehouses in Europe"]
    call_to_action = "Worth a 15-minute call next week?"
    sender_name = "Sam Seller"
    sender_company = "Pickwell"


class SequenceStepFactory(TenantFactory):
    class Meta:
        model = SequenceStep

    workspace = factory.SubFactory(WorkspaceFactory)
    campaign = factory.SubFactory(CampaignFactory, workspace=factory.SelfAttribute("..workspace"))
    order = 1
    kind = SequenceStep.Kind.FIRST_TOUCH


class EnrollmentFactory(TenantFactory):
    class Meta:
        model = Enrollment

    workspace = factory.SubFactory(WorkspaceFactory)
    campaign = factory.SubFactory(CampaignFactory, workspace=factory.SelfAttribute("..workspace"))
    lead = factory.SubFactory(LeadFactory, workspace=factory.SelfAttribute("..workspace"))


class MessageFactory(TenantFactory):
    class Meta:
        model = Message

    workspace = factory.SubFactory(WorkspaceFactory)
    enrollment = factory.SubFactory(
        EnrollmentFactory, workspace=factory.SelfAttribute("..workspace")
    )
    step = factory.SubFactory(
        SequenceStepFactory,
        workspace=factory.SelfAttribute("..workspace"),
        campaign=factory.SelfAttribute("..enrollment.campaign"),
    )
    status = Message.Status.PENDING_REVIEW
    subject = "Your new Leeds warehouse"
    body = "Hi Dana, saw you opened a warehouse in Leeds. Worth a 15-minute call next week?"


class MessageFeedbackFactory(TenantFactory):
    class Meta:
        model = MessageFeedback

    workspace = factory.SubFactory(WorkspaceFactory)
    message = factory.SubFactory(MessageFactory, workspace=factory.SelfAttribute("..workspace"))
    kind = MessageFeedback.Kind.REJECTED
    reason = "Too generic"


class LLMCallFactory(TenantFactory):
    class Meta:
        model = LLMCall

    workspace = factory.SubFactory(WorkspaceFactory)
    purpose = LLMCall.Purpose.DRAFTING
    model = "gpt-4.1-mini"
    prompt_version = "draft-1"
    tokens_in = 900
    tokens_out = 120
    succeeded = True


class SuppressionFactory(TenantFactory):
    class Meta:
        model = Suppression

    workspace = factory.SubFactory(WorkspaceFactory)
    kind = Suppression.Kind.ADDRESS
    value = factory.Sequence(lambda n: f"blocked{n}@company.example")
    value_hash = factory.LazyAttribute(
        lambda o: suppression_hash(workspace=o.workspace, kind=o.kind, value=o.value)
    )
    reason = "Asked not to be contacted"
    source = Suppression.Source.UI


class SavedViewFactory(TenantFactory):
    class Meta:
        model = SavedView

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"View {n}")
    query = "has_email=no&size=11-50"


class TagFactory(TenantFactory):
    class Meta:
        model = Tag

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Tag {n}")


class LeadTagFactory(TenantFactory):
    class Meta:
        model = LeadTag

    workspace = factory.SubFactory(WorkspaceFactory)
    lead = factory.SubFactory(LeadFactory, workspace=factory.SelfAttribute("..workspace"))
    tag = factory.SubFactory(TagFactory, workspace=factory.SelfAttribute("..workspace"))


class OutcomeFactory(TenantFactory):
    class Meta:
        model = Outcome

    workspace = factory.SubFactory(WorkspaceFactory)
    lead = factory.SubFactory(LeadFactory, workspace=factory.SelfAttribute("..workspace"))
    kind = Outcome.Kind.MEETING_BOOKED
    evidence = "Booked for Tuesday 10:00 through the CRM"
    occurred_at = factory.LazyFunction(timezone.now)
    source = Outcome.Source.API


class ActivityFactory(TenantFactory):
    class Meta:
        model = Activity

    workspace = factory.SubFactory(WorkspaceFactory)
    type = "lead.created"
    occurred_at = factory.LazyFunction(timezone.now)
    object_type = "lead"
    object_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    actor_type = Activity.ActorType.SYSTEM
    payload = factory.LazyFunction(lambda: {"source": "api"})


class MailboxFactory(TenantFactory):
    class Meta:
        model = Mailbox

    workspace = factory.SubFactory(WorkspaceFactory)
    from_name = "Sam Seller"
    from_email = factory.Sequence(lambda n: f"sam{n}@pickwell.example")
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    smtp_security = Mailbox.Security.NONE
    smtp_username = "sam"
    smtp_password = "smtp-secret"
    postal_address = "Pickwell Ltd, 1 Dock Road, Leeds LS1 1AA, UK"


class WebhookEndpointFactory(TenantFactory):
    class Meta:
        model = WebhookEndpoint

    workspace = factory.SubFactory(WorkspaceFactory)
    url = factory.Sequence(lambda n: f"https://crm{n}.example/hooks/sdr")
    event_types = factory.LazyFunction(lambda: ["*"])
    secret = "whsec_test"


class WebhookDeliveryFactory(TenantFactory):
    class Meta:
        model = WebhookDelivery

    workspace = factory.SubFactory(WorkspaceFactory)
    endpoint = factory.SubFactory(
        WebhookEndpointFactory, workspace=factory.SelfAttribute("..workspace")
    )
    activity = factory.SubFactory(ActivityFactory, workspace=factory.SelfAttribute("..workspace"))
    seq = factory.Sequence(lambda n: n + 1)
    event_type = "lead.updated"


class InboundEmailFactory(TenantFactory):
    class Meta:
        model = InboundEmail

    workspace = factory.SubFactory(WorkspaceFactory)
    source = InboundEmail.Source.FILE
    raw = factory.Sequence(
        lambda n: f"From: dana@northwind.example\r\nSubject: Re: hello\r\n\r\nYes {n}".encode()
    )
    raw_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.raw).hexdigest())
    size = factory.LazyAttribute(lambda o: len(o.raw))
    status = InboundEmail.Status.PROCESSED


class ReplyFactory(TenantFactory):
    class Meta:
        model = Reply

    workspace = factory.SubFactory(WorkspaceFactory)
    inbound = factory.SubFactory(
        InboundEmailFactory, workspace=factory.SelfAttribute("..workspace")
    )
    from_email = "dana@northwind.example"
    from_name = "Dana Reyes"
    subject = "Re: hello"
    message_id_header = factory.Sequence(lambda n: f"reply-{n}@northwind.example")
    received_at = factory.LazyFunction(timezone.now)
    text = "Sounds good, tell me more."
    visible_text = "Sounds good, tell me more."
    category = Reply.Category.INTERESTED
    confidence = 0.9


class ReplyLabelFactory(TenantFactory):
    class Meta:
        model = ReplyLabel

    workspace = factory.SubFactory(WorkspaceFactory)
    reply = factory.SubFactory(ReplyFactory, workspace=factory.SelfAttribute("..workspace"))
    category_before = Reply.Category.OTHER
    category_after = Reply.Category.INTERESTED
    classifier_before = Reply.Classifier.RULES


# Model -> callable(workspace=...) making one row of it in that workspace.
TENANT_FACTORIES: dict[type, object] = {
    WorkspaceAPIKey: api_key_factory,
    Company: CompanyFactory,
    Lead: LeadFactory,
    Fact: FactFactory,
    Signal: SignalFactory,
    WebPage: WebPageFactory,
    ImportJob: ImportJobFactory,
    ImportRowError: ImportRowErrorFactory,
    Campaign: CampaignFactory,
    SequenceStep: SequenceStepFactory,
    Enrollment: EnrollmentFactory,
    Message: MessageFactory,
    MessageFeedback: MessageFeedbackFactory,
    LLMCall: LLMCallFactory,
    Suppression: SuppressionFactory,
    Outcome: OutcomeFactory,
    Activity: ActivityFactory,
    Mailbox: MailboxFactory,
    InboundEmail: InboundEmailFactory,
    Reply: ReplyFactory,
    ReplyLabel: ReplyLabelFactory,
    WebhookEndpoint: WebhookEndpointFactory,
    WebhookDelivery: WebhookDeliveryFactory,
    ImportFileChunk: ImportFileChunkFactory,
    SavedView: SavedViewFactory,
    Tag: TagFactory,
    LeadTag: LeadTagFactory,
}


# Billing's factories live with its tests; imported here, below every factory they use.
from tests.billing.factories import BILLING_FACTORIES  # noqa: E402

TENANT_FACTORIES.update(BILLING_FACTORIES)

from tests.ranking.factories import RANKING_FACTORIES  # noqa: E402

TENANT_FACTORIES.update(RANKING_FACTORIES)


def workspace_populate(
    workspace: Workspace, *, tag: str = "zebulon", member: bool = True, api_key: bool = True
) -> dict[Any, Any]:
    """Fill a workspace with one coherent set of rows, like a customer's: a researched
    company with a signal and facts, two leads with emails (one enrolled, with an outcome;
    one still eligible), a campaign with a first-touch step and a draft waiting for review,
    an import with a rejected row, suppressions, an activity, an API key and a member.
    Then one row of every other model in TENANT_FACTORIES, so a new tenant model is in it
    as soon as it has a factory.

    It is the neighbour every database test has (tests/conftest.py): a query that forgets
    to scope sees these rows. Every text value carries `tag`, so a page that shows them can
    be found, and the same workspace can be filled twice with different tags. About 25
    inserts, related rows passed explicitly so no factory makes more than it must.
    `api_key=False` leaves out the API key (not a TenantModel): several tests read "the"
    key with an unscoped `WorkspaceAPIKey.objects.get()`.
    Returns {model: one row of it}, and the eligible lead as "eligible_lead".
    """
    name = tag.capitalize()
    domain = f"{tag}-robotics.example"
    now = timezone.now()

    def fingerprint(*parts: str) -> str:
        return hashlib.sha256(":".join((tag, *parts)).encode()).hexdigest()

    company = CompanyFactory(
        workspace=workspace,
        domain=domain,
        name=f"{name} Robotics",
        website=f"https://{domain}/",
        description=f"{name} builds pallet robots.",
        industry="Robotics",
        employee_count=120,
        location="Leeds",
        country="GB",
        phone="+44 113 496 0000",
        contact_emails=[f"hello@{domain}"],
        socials={"linkedin": f"https://www.linkedin.com/company/{tag}-robotics"},
        tech_stack=["HubSpot"],
        open_roles_count=3,
        enrich_status=Company.EnrichStatus.DONE,
        enriched_at=now,
    )
    lead = LeadFactory(
        workspace=workspace,
        company=company,
        email=f"{tag}.lee@{domain}",
        first_name=name,
        last_name="Lee",
        external_id=f"crm-{tag}-1",
    )
    # Not enrolled, no outcome, not suppressed: what an unscoped enrollment would pick.
    eligible_lead = LeadFactory(
        workspace=workspace,
        company=company,
        email=f"{tag}.kim@{domain}",
        first_name=name,
        last_name="Kim",
        external_id=f"crm-{tag}-2",
    )
    fact = FactFactory(
        workspace=workspace,
        company=company,
        value=f"{name} builds pallet robots.",
        source_url=f"https://{domain}/about",
        evidence=f"{name} builds pallet robots for warehouses.",
        fingerprint=fingerprint("fact"),
    )
    signal = SignalFactory(
        workspace=workspace,
        company=company,
        title=f"{name} raised a $12M Series A",
        source_url=f"https://{domain}/news",
        fingerprint=fingerprint("signal"),
    )
    page = WebPageFactory(workspace=workspace, company=company, url=f"https://{domain}/about")
    job = ImportJobFactory(workspace=workspace, filename=f"{tag}-leads.csv")
    row_error = ImportRowErrorFactory(
        workspace=workspace, job=job, raw={"email": f"not-an-email-{tag}"}
    )
    campaign = CampaignFactory(
        workspace=workspace, name=f"{name} outreach", status=Campaign.Status.ACTIVE
    )
    step = SequenceStepFactory(workspace=workspace, campaign=campaign, order=1)
    enrollment = EnrollmentFactory(
        workspace=workspace, campaign=campaign, lead=lead, current_step=step
    )
    message = MessageFactory(
        workspace=workspace,
        enrollment=enrollment,
        step=step,
        subject=f"{name}: your new Leeds warehouse",
        body=f"Hi {name}, saw you raised a Series A. Worth a 15-minute call next week?",
    )
    message.cited_facts.add(fact)
    vip = TagFactory(workspace=workspace, name=f"{name} VIP"[-Tag.MAX_NAME :])
    lead_tag = LeadTagFactory(workspace=workspace, lead=lead, tag=vip)
    rows: dict[Any, Any] = {
        Tag: lead_tag.tag,
        LeadTag: lead_tag,
        Company: company,
        Lead: lead,
        Fact: fact,
        Signal: signal,
        WebPage: page,
        ImportJob: job,
        ImportRowError: row_error,
        Campaign: campaign,
        SequenceStep: step,
        Enrollment: enrollment,
        Message: message,
        MessageFeedback: MessageFeedbackFactory(
            workspace=workspace, message=message, reason=f"Too generic for {name}"
        ),
        LLMCall: LLMCallFactory(
            workspace=workspace, subject_type="message", subject_id=str(message.pk)
        ),
        Suppression: SuppressionFactory(workspace=workspace, value=f"{tag}.gone@{domain}"),
        Outcome: OutcomeFactory(
            workspace=workspace, lead=lead, evidence=f"{name} booked a call for Tuesday"
        ),
        Activity: ActivityFactory(
            workspace=workspace, object_id=str(lead.pk), payload={"source": "api", "tag": tag}
        ),
    }
    if api_key:
        rows[WorkspaceAPIKey] = api_key_factory(workspace=workspace, name=f"{name} CRM")
    SuppressionFactory(
        workspace=workspace, kind=Suppression.Kind.DOMAIN, value=f"{tag}-blocked.example"
    )
    rows["eligible_lead"] = eligible_lead
    if member:
        rows[Membership] = MembershipFactory(workspace=workspace)
    for model, make in TENANT_FACTORIES.items():
        if model not in rows and (api_key or model is not WorkspaceAPIKey):
            rows[model] = make(workspace=workspace)
    return rows
