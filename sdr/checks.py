"""System checks of our own settings, run by `manage.py check` (`--deploy` for these)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def row_level_security_roles(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """On PostgreSQL the cross-workspace jobs need a role of their own (sdr/rls.py):
    without one they act as the login role, which sees nothing when it is the app role
    (the sweeper and beat's passes would find no work) and everything when it is the
    owner (no second wall at all)."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine or settings.DATABASE_CROSS_WORKSPACE_ROLE:
        return []
    return [
        Warning(
            "DATABASE_CROSS_WORKSPACE_ROLE is not set.",
            hint="Create the roles with `manage.py db_roles`, log in as sdr_app and set "
            "DATABASE_CROSS_WORKSPACE_ROLE=sdr_ops (README, Row-level security).",
            id="sdr.W001",
        )
    ]
