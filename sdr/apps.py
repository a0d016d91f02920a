from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SdrConfig(AppConfig):
    name = "sdr"
    verbose_name = "Workspaces and access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The OpenAPI auth extension, row-level security on connect, our system checks, the
        # `__any` lookup.
        from sdr import checks, lookups, rls, schema  # noqa: F401

        post_migrate.connect(_policies_install, dispatch_uid="sdr.rls.policies")


def _policies_install(
    sender: AppConfig, using: str = "default", plan: Any = None, **kwargs: Any
) -> None:
    from django.db import connections

    from sdr import rls

    # Sent once per app, after the whole plan ran: every app's tables exist by the first
    # one, so this app's signal installs the policies for all of them.
    # A `flush` (plan None: the test runner's, after a transactional test) empties the
    # tables and leaves their policies in place.
    if sender.name != "sdr" or plan is None:
        return
    if connections[using].vendor == "postgresql":
        with rls.owner():
            rls.policies_install(connections[using])
