import logging
import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Seed the demo data and serve the product at http://127.0.0.1:8000/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        from leads.demo import demo_sites_start
        from sdr.management.commands.seed_demo import demo_loopback_allow
        from sdr.queue import tasks_in_background

        # Before anything runs: "Enrich now" on a sample site, the demo mailbox and a
        # webhook to a local receiver all dial loopback, from this process only (the
        # server runs without the reloader and tasks eagerly, so no child needs it).
        demo_loopback_allow()
        call_command("seed_demo")
        # The sample company sites stay up, so "Enrich now" works offline too.
        demo_sites_start()
        # The demo has no Celery worker or beat. From here on a thread stands in for the
        # worker (an import, research or drafting runs beside the request, which shows
        # its progress, instead of holding it for minutes), and another for beat's
        # minutely dispatch, so approved messages go out on schedule (to the console).
        tasks_in_background()
        threading.Thread(target=_dispatch_every_minute, name="demo-dispatch", daemon=True).start()
        call_command("runserver", addrport, use_reloader=False)


def _dispatch_every_minute() -> None:
    from django.db import close_old_connections

    from outreach.dispatch import dispatch_due

    while True:
        time.sleep(60)
        try:
            dispatch_due()
        except Exception:  # a demo convenience: log and try again next minute
            logging.getLogger(__name__).exception("Demo dispatch pass failed")
        finally:
            close_old_connections()
