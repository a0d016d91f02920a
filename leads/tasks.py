from celery import shared_task


@shared_task(name="enrich.company")
def enrich_company_task(company_id: str) -> None:
    from leads.enrichment import company_enrich_by_id

    company_enrich_by_id(company_id=company_id)


@shared_task(name="enrich.refresh_stale")
def refresh_stale_companies_task() -> int:
    from leads.enrichment import stale_companies_enqueue

    return stale_companies_enqueue()


@shared_task(name="ingest.import_leads")
def import_leads_task(job_id: str) -> None:
    from leads.importing import import_job_run

    import_job_run(job_id=job_id)
