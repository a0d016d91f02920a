from django.apps import AppConfig


class SdrConfig(AppConfig):
    name = "sdr"
    verbose_name = "Workspaces and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sdr import schema  # noqa: F401  (registers the OpenAPI auth extension)
