from django.apps import AppConfig


class SdrConfig(AppConfig):
    name = "sdr"
    verbose_name = "Workspaces and access"
    default_auto_field = "django.db.models.BigAutoField"
