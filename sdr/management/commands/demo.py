from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Seed the demo data and serve the product at http://127.0.0.1:8000/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        from leads.demo import demo_sites_start

        call_command("seed_demo")
        # The sample company sites stay up, so "Enrich now" works offline too.
        demo_sites_start()
        call_command("runserver", addrport, use_reloader=False)
