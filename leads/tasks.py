from celery import shared_task

from sdr import rls


@shared_task(name="enrich.company")
def enrich_company_task(company_id: str) -> None:
    from leads.enrichment import company_enrich_by_id
    from leads.models import Company

    with rls.workspace_of(Company, company_id):
        company_enrich_by_id(company_id=company_id)


@shared_task(name="enrich.refresh_stale")
def refresh_stale_companies_task() -> int:
    from leads.enrichment import stale_companies_enqueue

    with rls.cross_workspace():
        return stale_companies_enqueue()


@shared_task(name="ingest.import_leads")
def import_leads_task(job_id: str) -> None:
    from leads.importing import import_job_run
    from leads.models import ImportJob

    with rls.workspace_of(ImportJob, job_id):
        import_job_run(job_id=job_id)
