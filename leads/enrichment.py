"""Company enrichment: crawl the company's site, keep every value as a Fact, pick fields.

The flow for one company: claim it (`sdr.states.claim`, with a lease, so a redelivered task
does not crawl twice and a dead worker's company goes back to the queue), crawl its site
through the safe fetcher with no transaction open, then, in one transaction and only if the
claim is still ours, write facts, signals and newly found people, let the waterfall choose
the company's fields, record the outcome and its activity.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from leads.extraction import ExtractedPerson, PageExtraction, extract_page, sitemap_urls
from leads.extraction.links import kind_for_url
from leads.models import Company, Fact, Lead, Signal, WebPage
from leads.normalize import InvalidValue, linkedin_url_normalize
from leads.waterfall import SCALAR_FIELDS, company_fields_apply
from sdr.activity import Event, activities_record, activity_record
from sdr.errors import AppError, ErrorCode
from sdr.fetch import Fetcher, FetchError, FetchResult, decode_html
from sdr.models import Workspace
from sdr.queue import hint_each_after_commit
from sdr.states import Claim, claim, transition, transition_many

logger = logging.getLogger(__name__)

# Pages worth reading per kind, beyond the home page: enough to find the facts and
# signals an email can use, few enough to stay polite (the fetcher caps the total too).
PAGES_PER_KIND = {"about": 1, "team": 2, "careers": 2, "press": 4, "blog": 2, "contact": 1}
# Press and careers listings link to the articles and roles that carry the details.
FOLLOW_FROM = {"press", "blog", "careers"}
# The Celery queue of research a person is waiting for (see CELERY_TASK_QUEUES).
ENRICH_NOW_QUEUE = "enrich_now"


class EnrichmentError(Exception):
    """The company could not be researched at all (its home page is out of reach)."""


@dataclass
class CrawlResult:
    extractions: list[PageExtraction] = field(default_factory=list)
    pages: list[dict] = field(default_factory=list)  # WebPage field values, one per URL
    errors: list[str] = field(default_factory=list)


def companies_enqueue_enrichment(
    *, workspace: Workspace, company_ids: Iterable, queue: str | None = None
) -> int:
    """Queue research of these companies and send their hints after the current transaction
    commits; returns how many were queued.

    A company already queued is queued again (its hint may have been lost with the
    broker), one whose research run died (its lease ran out) is taken back; one being
    researched right now is left to finish.
    """
    from leads.tasks import enrich_company_task

    scoped = Company.objects.for_workspace(workspace).filter(pk__any=list(company_ids))
    queued = transition_many(
        Company,
        scoped.values_list("pk", flat=True),
        source=Company.EnrichStatus.values,
        target=Company.EnrichStatus.QUEUED,
        reason="",
        attempts=0,  # a new request: the sweeper's retries count from here
    )
    hint_each_after_commit(enrich_company_task, queued, queue=queue)
    return len(queued)


def company_enrich_request(*, company: Company) -> Company:
    """ "Enrich now": research the company again, or say why not (409 while a live run
    holds it; its result shows when that run ends)."""
    # A person waits for this one: its own queue, so it is not taken after the thousands
    # of companies an import has just queued.
    queued = companies_enqueue_enrichment(
        workspace=company.workspace, company_ids=[company.pk], queue=ENRICH_NOW_QUEUE
    )
    if not queued:
        raise AppError(
            ErrorCode.CONFLICT,
            f"{company} is being researched right now; the result shows here when it ends.",
            status_code=409,
        )
    company.refresh_from_db()
    return company


def stale_companies_enqueue(*, limit: int = 500) -> int:
    """Re-research companies last enriched long ago (the periodic refresh)."""
    cutoff = timezone.now() - timedelta(days=settings.ENRICH_REFRESH_DAYS)
    stale = (
        Company.unscoped_objects.filter(
            enrich_status__in=[Company.EnrichStatus.DONE, Company.EnrichStatus.FAILED],
            enriched_at__lt=cutoff,
        )
        .order_by("enriched_at")
        .values_list("workspace_id", "pk")[:limit]
    )
    by_workspace: dict = {}
    for workspace_id, pk in stale:
        by_workspace.setdefault(workspace_id, []).append(pk)
    return sum(
        companies_enqueue_enrichment(workspace=Workspace.objects.get(pk=ws), company_ids=ids)
        for ws, ids in by_workspace.items()
    )


def company_enrich_by_id(*, company_id: str) -> Company | None:
    """Claim a queued company and enrich it; None if it is not queued (another worker has
    it, or a stale hint arrived after it was done)."""
    held = claim(
        Company,
        company_id,
        source=Company.EnrichStatus.QUEUED,
        target=Company.EnrichStatus.RUNNING,
        lease=_lease(),
    )
    if held is None:
        return None
    company = Company.unscoped_objects.select_related("workspace").get(pk=company_id)
    return _enrich_claimed(company, held, Fetcher())


def company_enrich(*, company: Company, fetcher: Fetcher | None = None) -> Company:
    """Research one company now, in this process (the demo, commands, tests), whatever
    its state, unless a live run holds it."""
    held = claim(
        Company,
        company.pk,
        source=Company.EnrichStatus.values,
        target=Company.EnrichStatus.RUNNING,
        lease=_lease(),
    )
    if held is None:
        raise AppError(
            ErrorCode.CONFLICT, f"{company} is being researched right now.", status_code=409
        )
    return _enrich_claimed(company, held, fetcher or Fetcher())


def _lease() -> timedelta:
    return timedelta(seconds=settings.LEASE_ENRICH_SECONDS)


def _enrich_claimed(company: Company, held: Claim, fetcher: Fetcher) -> Company:
    try:
        try:
            crawl = site_crawl(company=company, fetcher=fetcher)
        except EnrichmentError as error:
            return _finish(company, held, status=Company.EnrichStatus.FAILED, error=str(error))
        return _finish(
            company,
            held,
            status=Company.EnrichStatus.DONE,
            error="; ".join(crawl.errors),
            crawl=crawl,
        )
    except Exception as error:
        # A bug, not a site problem: say so on the company instead of leaving it "running",
        # and let the task fail loudly.
        _finish(
            company,
            held,
            status=Company.EnrichStatus.FAILED,
            error=f"Internal error ({type(error).__name__}); the team has been alerted.",
        )
        raise


def _finish(
    company: Company,
    held: Claim,
    *,
    status: str,
    error: str,
    crawl: CrawlResult | None = None,
) -> Company:
    """Record the run's outcome, its findings and its activity together, if the claim is
    still ours; a run the sweeper gave up on (or gave to another worker) writes nothing."""
    with transaction.atomic():
        # The status change comes first: it locks the row, so the sweeper cannot take the
        # company back while its findings are being written.
        finished = transition(
            Company,
            company.pk,
            source=Company.EnrichStatus.RUNNING,
            target=status,
            token=held.token,
            reason=error,
            enriched_at=timezone.now(),
        )
        if finished:
            if crawl is not None:
                enrichment_record(company=company, crawl=crawl)
                _score_company_leads(company)
            done = status == Company.EnrichStatus.DONE
            activity_record(
                workspace=company.workspace_id,
                type="company.enriched" if done else "company.enrich_failed",
                object_type="company",
                object_id=company.pk,
                payload={
                    "domain": company.domain,
                    "pages": len(crawl.pages) if crawl else 0,
                    "error": error[:500],
                },
            )
    company.refresh_from_db()
    return company


def _score_company_leads(company: Company) -> None:
    """What research found (industry, size, tech, signals, team members) is what leads are
    scored on: the company's leads are scored again once the findings commit."""
    from ranking.services import leads_score_after_commit

    leads = Lead.objects.for_workspace(company.workspace).filter(company=company)
    leads_score_after_commit(
        workspace=company.workspace, lead_ids=leads.values_list("pk", flat=True)
    )


# --- crawling (network, no transaction) ---------------------------------------------


def site_crawl(*, company: Company, fetcher: Fetcher) -> CrawlResult:
    known = {
        page.url: page
        for page in WebPage.objects.for_workspace(company.workspace).filter(company=company)
    }
    crawl = CrawlResult()
    home_url = company.website or f"https://{company.domain}/"
    try:
        home_links = _visit(home_url, "home", fetcher, known, crawl)
    except FetchError as error:
        raise EnrichmentError(f"The home page could not be read: {error}") from error

    plan = _plan(home_links, _sitemap_links(home_url, fetcher))
    for kind, urls in plan.items():
        for url in urls:
            links = _visit_quietly(url, kind, fetcher, known, crawl)
            if kind in FOLLOW_FROM:
                for follow in links.get(kind, [])[: PAGES_PER_KIND[kind]]:
                    if follow not in {p["url"] for p in crawl.pages}:
                        _visit_quietly(follow, kind, fetcher, known, crawl)
    return crawl


def _visit_quietly(
    url: str, kind: str, fetcher: Fetcher, known: dict[str, WebPage], crawl: CrawlResult
) -> dict[str, list[str]]:
    try:
        return _visit(url, kind, fetcher, known, crawl)
    except FetchError as error:
        crawl.errors.append(f"{url}: {error}")
        crawl.pages.append(_page_values(url, kind, error=str(error)[:300]))
        return {}


def _visit(
    url: str, kind: str, fetcher: Fetcher, known: dict[str, WebPage], crawl: CrawlResult
) -> dict[str, list[str]]:
    previous = known.get(url)
    result = fetcher.get(
        url,
        etag=previous.etag if previous else "",
        last_modified=previous.last_modified if previous else "",
    )
    if result.not_modified and previous is not None:
        # Unchanged since last time: its facts are already stored; reuse its links.
        crawl.pages.append(
            _page_values(
                url,
                previous.kind or kind,
                result=result,
                links=previous.links,
                warnings=previous.warnings,
            )
        )
        return previous.links
    extraction = extract_page(decode_html(result), url=result.final_url)
    crawl.extractions.append(extraction)
    crawl.pages.append(
        _page_values(
            url,
            extraction.page_kind if kind == "home" else kind,
            result=result,
            links=extraction.links,
            warnings=extraction.warnings,
        )
    )
    return extraction.links


def _page_values(
    url: str,
    kind: str,
    *,
    result: FetchResult | None = None,
    links: dict[str, list[str]] | None = None,
    warnings: list[str] | None = None,
    error: str = "",
) -> dict:
    return {
        "url": url,
        "kind": kind,
        "status_code": result.status if result else None,
        "etag": result.etag if result else "",
        "last_modified": result.last_modified if result else "",
        "links": links or {},
        "warnings": warnings or [],
        "error": error,
        "fetched_at": timezone.now(),
    }


def _sitemap_links(home_url: str, fetcher: Fetcher) -> list[str]:
    sitemap = urljoin(home_url, "/sitemap.xml")
    try:
        result = fetcher.get(sitemap)
    except FetchError:
        return []  # most small sites have none; the home page links are enough
    return sitemap_urls(result.content, base_url=sitemap)


def _plan(home_links: dict[str, list[str]], sitemap: list[str]) -> dict[str, list[str]]:
    """Which pages to read, per kind: links from the home page first, then the sitemap."""
    plan: dict[str, list[str]] = {kind: [] for kind in PAGES_PER_KIND}
    candidates: list[tuple[str | None, str]] = [
        (kind, url) for kind, urls in home_links.items() for url in urls
    ]
    candidates += [(kind_for_url(url), url) for url in sitemap]
    for kind, url in candidates:
        if kind in plan and url not in plan[kind] and len(plan[kind]) < PAGES_PER_KIND[kind]:
            plan[kind].append(url)
    return plan


# --- recording (one transaction) ------------------------------------------------------


def enrichment_record(*, company: Company, crawl: CrawlResult) -> None:
    supplied_facts_record(company=company)
    facts_record(company=company, extractions=crawl.extractions)
    signals_record(company=company, extractions=crawl.extractions)
    people_record(company=company, extractions=crawl.extractions)
    pages_record(company=company, pages=crawl.pages)
    company_fields_apply(company=company)
    company.save(
        update_fields=[
            *SCALAR_FIELDS.values(),
            "socials",
            "tech_stack",
            "contact_emails",
            "field_sources",
            "updated_at",
        ]
    )


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def supplied_facts_record(*, company: Company) -> None:
    """Values a person gave (CSV, API, UI) become facts, so the waterfall weighs them too.

    A field counts as supplied when it has a value the waterfall did not set: fields it
    set carry a `field_sources` entry, and edits clear that entry (see company_update).
    """
    now = timezone.now()
    facts = []
    for field_name, attribute in SCALAR_FIELDS.items():
        value = getattr(company, attribute)
        source = company.field_sources.get(field_name)
        if value in ("", None) or (source and source.get("extractor") != "supplied"):
            continue
        facts.append(
            Fact(
                workspace=company.workspace,
                company=company,
                field=field_name,
                value=value,
                source_kind="supplied",
                extractor="supplied",
                confidence=0.9,
                evidence="Given when the company was added or edited",
                observed_at=now,
                fingerprint=fingerprint("company", company.pk, field_name, value, "supplied"),
            )
        )
    _facts_upsert(facts)


def facts_record(*, company: Company, extractions: list[PageExtraction]) -> None:
    now = timezone.now()
    facts = [
        Fact(
            workspace=company.workspace,
            company=company,
            field=value.field,
            value=value.value,
            source_url=extraction.url,
            source_kind=value.source_kind,
            evidence=value.evidence[:1000],
            confidence=value.confidence,
            extractor=value.extractor,
            observed_at=now,
            # Two extractors reading the same value off one page are two observations.
            fingerprint=fingerprint(
                "company", company.pk, value.field, value.value, extraction.url, value.extractor
            ),
        )
        for extraction in extractions
        for value in extraction.values
    ]
    _facts_upsert(facts)


def _facts_upsert(facts: list[Fact]) -> None:
    # Seen again: refresh when and how it was observed rather than store a duplicate.
    Fact.unscoped_objects.bulk_create(
        _unique_by_fingerprint(facts),
        update_conflicts=True,
        unique_fields=["workspace", "fingerprint"],
        update_fields=["observed_at", "evidence", "confidence"],
    )


def _unique_by_fingerprint(rows: list) -> list:
    # One INSERT ... ON CONFLICT may not touch the same row twice.
    return list({row.fingerprint: row for row in rows}.values())


def signals_record(*, company: Company, extractions: list[PageExtraction]) -> None:
    now = timezone.now()
    signals = [
        Signal(
            workspace=company.workspace,
            company=company,
            kind=signal.kind,
            title=signal.title[:300],
            happened_on=signal.happened_on,
            amount=signal.amount,
            currency=signal.currency,
            details=signal.details,
            source_url=extraction.url,
            evidence=signal.evidence[:1000],
            observed_at=now,
            fingerprint=fingerprint(
                company.pk, signal.kind, signal.title.lower(), signal.happened_on
            ),
        )
        for extraction in extractions
        for signal in extraction.signals
    ]
    # Each signal is also a fact ("signal.funding" ...), so an email citing it cites a
    # stored fact with its source, like every other claim.
    _facts_upsert(
        [
            Fact(
                workspace=company.workspace,
                company=company,
                field=f"signal.{signal.kind}",
                value=_signal_value(signal),
                source_url=signal.source_url,
                source_kind="website",
                evidence=signal.evidence,
                confidence=0.8,
                extractor="press",
                observed_at=now,
                fingerprint=fingerprint("company", company.pk, "signal", signal.fingerprint),
            )
            for signal in signals
        ]
    )
    Signal.unscoped_objects.bulk_create(
        _unique_by_fingerprint(signals),
        update_conflicts=True,
        unique_fields=["workspace", "fingerprint"],
        update_fields=["observed_at", "details", "evidence", "amount", "currency", "source_url"],
    )


def _signal_value(signal: Signal) -> dict:
    value = {
        "title": signal.title,
        **{k: v for k, v in signal.details.items() if isinstance(v, str | int | float | list)},
    }
    if signal.happened_on:
        value["date"] = signal.happened_on.isoformat()
    if signal.amount is not None:
        value["amount"] = str(signal.amount)
        value["currency"] = signal.currency
    return value


def _profile_url(raw: str) -> str:
    """A scraped profile link checked as one from a CSV or the API is: a team page or a
    JSON-LD `sameAs` of `javascript:...//linkedin.com/in/x` is dropped, never stored."""
    try:
        return linkedin_url_normalize(raw)[:500]
    except InvalidValue:
        return ""


def people_record(*, company: Company, extractions: list[PageExtraction]) -> list[Lead]:
    """People on team pages become leads of the company (without email until one is found)."""
    from leads.normalize import email_normalize, split_name
    from leads.titles import title_classify

    existing = Lead.objects.for_workspace(company.workspace)
    known_names = {
        (first.lower(), last.lower())
        for first, last in existing.filter(company=company).values_list("first_name", "last_name")
    }
    known_emails = set(existing.exclude(email="").values_list("email", flat=True))
    created: list[Lead] = []
    now = timezone.now()
    title_facts: list[Fact] = []
    for extraction, person in _people(extractions):
        first, last = split_name(person.name)
        email = _valid_email(person.email, email_normalize)
        if (first.lower(), last.lower()) in known_names or (email and email in known_emails):
            continue
        seniority, department = title_classify(person.title)
        lead = Lead(
            workspace=company.workspace,
            company=company,
            first_name=first[:100],
            last_name=last[:100],
            title=person.title[:200],
            seniority=seniority,
            department=department,
            email=email,
            linkedin_url=_profile_url(person.linkedin_url),
            source=Lead.Source.ENRICHMENT,
        )
        created.append(lead)
        known_names.add((first.lower(), last.lower()))
        if email:
            known_emails.add(email)
        if person.title:
            title_facts.append(
                Fact(
                    workspace=company.workspace,
                    lead=lead,
                    company=company,
                    field="title",
                    value=person.title,
                    source_url=extraction.url,
                    source_kind="website",
                    evidence=person.evidence[:1000],
                    confidence=0.7,
                    extractor="team",
                    observed_at=now,
                    fingerprint=fingerprint("lead", lead.pk, "title", person.title, extraction.url),
                )
            )
    Lead.unscoped_objects.bulk_create(created)
    activities_record(
        workspace=company.workspace,
        events=[
            Event("lead.created", "lead", lead.pk, {"source": Lead.Source.ENRICHMENT})
            for lead in created
        ],
    )
    _facts_upsert(title_facts)
    return created


def _people(extractions: list[PageExtraction]) -> Iterable[tuple[PageExtraction, ExtractedPerson]]:
    for extraction in extractions:
        for person in extraction.people:
            if person.name.strip():
                yield extraction, person


def _valid_email(raw: str, normalize: Callable[[str], str]) -> str:
    if not raw:
        return ""
    try:
        return normalize(raw)
    except ValueError:
        return ""


def pages_record(*, company: Company, pages: list[dict]) -> None:
    rows = [WebPage(workspace=company.workspace, company=company, **values) for values in pages]
    WebPage.unscoped_objects.bulk_create(
        list({row.url: row for row in rows}.values()),
        update_conflicts=True,
        unique_fields=["company", "url"],
        update_fields=[
            "kind",
            "status_code",
            "etag",
            "last_modified",
            "links",
            "warnings",
            "error",
            "fetched_at",
        ],
    )
