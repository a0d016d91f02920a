"""Create the two roles row-level security needs (sdr/rls.py), or print their SQL.

Run once per cluster by a user that may create roles; then give the app role a login
(`ALTER ROLE sdr_app LOGIN PASSWORD '...'`), connect the product as it, and run
`migrate` as the owner so the tables get their policies and grants.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection

from sdr import rls


class Command(BaseCommand):
    help = "Create the app role and the cross-workspace role for row-level security."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--app-role", default="sdr_app")
        parser.add_argument("--cross-role", default="sdr_ops")
        parser.add_argument("--sql", action="store_true", help="Print the SQL; change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        statements = rls.roles_statements(options["app_role"], options["cross_role"])
        if options["sql"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        if connection.vendor != "postgresql":
            raise CommandError("Row-level security needs PostgreSQL; DATABASE_URL is not one.")
        try:
            with rls.owner(), connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        except DatabaseError as error:
            raise CommandError(f"Could not create the roles: {error}".strip()) from error
        self.stdout.write(
            f"Roles {options['app_role']} and {options['cross_role']} are ready. "
            "Run `migrate` as the tables' owner to grant them and install the policies."
        )
