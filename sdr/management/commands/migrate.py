"""`migrate`, as the role that owns the tables, even where the process otherwise acts as
the app role (DATABASE_ROLE): creating tables and policies is the owner's work."""

from typing import Any

from django.core.management.commands.migrate import Command as DjangoMigrate

from sdr import rls


class Command(DjangoMigrate):
    def handle(self, *args: Any, **options: Any) -> None:
        with rls.owner():
            super().handle(*args, **options)
