from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leads.models import Company, ImportJob
        from leads.tasks import enrich_company_task, import_leads_task
        from sdr.queue import hint_each
        from sdr.states import Expiry, StateMachine, register

        # An import resumes after its last committed batch, so a lost worker costs one
        # batch; the attempts count only runs that committed nothing (see importing.py).
        register(
            StateMachine(
                model=ImportJob,
                object_type="import",
                reason_field="failure",
                running={
                    ImportJob.Status.RUNNING: Expiry(
                        retry=ImportJob.Status.QUEUED,
                        give_up=ImportJob.Status.FAILED,
                        reason="The worker running this import stopped before it finished.",
                    )
                },
                queued=(ImportJob.Status.QUEUED,),
                start=lambda ids: hint_each(import_leads_task, ids),
            )
        )
        register(
            StateMachine(
                model=Company,
                object_type="company",
                field="enrich_status",
                reason_field="enrich_error",
                running={
                    Company.EnrichStatus.RUNNING: Expiry(
                        retry=Company.EnrichStatus.QUEUED,
                        give_up=Company.EnrichStatus.FAILED,
                        reason="The research run stopped before it finished.",
                    )
                },
                queued=(Company.EnrichStatus.QUEUED,),
                start=lambda ids: hint_each(enrich_company_task, ids),
            )
        )
