"""Loopback and the other non-public networks are reachable only where asked for: a plain
process (`runserver`, gunicorn, a worker) refuses them for research, mailboxes and
webhooks like production, DEBUG or not; the demo commands allow loopback for their own
process, where the sample sites and the demo mailbox are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sdr.fetch import fetch
from sdr.management.commands.seed_demo import demo_loopback_allow
from tests.loopback import NETWORK_SETTINGS

ROOT = Path(__file__).resolve().parents[2]

# What a plain process does with a research URL, a mailbox host and a webhook endpoint on
# loopback: the outcome of each, as JSON on stdout.
PLAIN_PROCESS = """
import json
import sys

import django

django.setup()
from django.conf import settings

from outreach.smtp import SmtpError, vet_mail_host
from sdr.errors import AppError
from sdr.fetch import FetchError, fetch
from sdr.webhooks import endpoint_url_check

outcome = {"settings": {name: getattr(settings, name) for name in sys.argv[2:]}}
try:
    fetch(sys.argv[1])
    outcome["research"] = "fetched"
except FetchError as error:
    outcome["research"] = [str(error.reason), str(error)]
try:
    vet_mail_host("127.0.0.1", 25)
    outcome["mailbox"] = "allowed"
except SmtpError as error:
    outcome["mailbox"] = str(error)
try:
    endpoint_url_check(sys.argv[1] + "hooks")
    outcome["webhook"] = "allowed"
except AppError as error:
    outcome["webhook"] = str(error.details)
print(json.dumps(outcome))
"""


def in_a_plain_process(url: str, env: dict[str, str]) -> dict:
    """Run PLAIN_PROCESS with none of this session's settings in its environment (DEBUG
    unset unless `env` sets it), as `runserver` or gunicorn would start."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "DATABASE", "SECRET", "FIELD_", "ALLOWED", "DEBUG"))
        and k not in NETWORK_SETTINGS
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", PLAIN_PROCESS, url, *NETWORK_SETTINGS],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdr.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env", [{}, {"DEBUG": "true"}], ids=["debug-unset", "debug-on"])
def test_a_plain_process_refuses_loopback_research_mailboxes_and_webhooks(http_server, env):
    http_server.route("/", "<html><title>Acme</title></html>")
    http_server.route("/robots.txt", "User-agent: *\nAllow: /\n")
    url = http_server.url("/")

    outcome = in_a_plain_process(url, env)

    assert outcome["settings"] == {name: [] for name in NETWORK_SETTINGS}
    reason, message = outcome["research"]
    assert reason == "blocked_address"
    assert "127.0.0.1, which is not a public address" in message
    assert "127.0.0.1" in outcome["mailbox"] and "public" in outcome["mailbox"]
    assert "We cannot deliver there" in outcome["webhook"]
    assert "127.0.0.1" in outcome["webhook"]
    # Refused before any connection: the server never heard from the plain process.
    assert http_server.paths() == []


def test_the_same_loopback_site_is_read_where_loopback_is_allowed(http_server):
    """The refusal above is the setting's doing, not the server's: this test session allows
    loopback (tests/conftest.py) and reads the page."""
    http_server.route("/", "<html><title>Acme</title></html>")
    http_server.route("/robots.txt", "User-agent: *\nAllow: /\n")

    assert fetch(http_server.url("/"), politeness_delay=0).status == 200


def test_the_demo_allows_loopback_in_its_own_process_and_keeps_configured_networks(settings):
    for name in NETWORK_SETTINGS:
        setattr(settings, name, [])  # as a plain process has them
    settings.FETCH_ALLOWED_NETWORKS = ["10.0.0.0/8"]  # set by the environment

    demo_loopback_allow()
    demo_loopback_allow()  # twice, as `demo` then `seed_demo` do

    allowed = {name: getattr(settings, name) for name in NETWORK_SETTINGS}
    assert allowed == {
        "FETCH_ALLOWED_NETWORKS": ["10.0.0.0/8", "127.0.0.1/32", "::1/128"],
        "MAILBOX_ALLOWED_NETWORKS": ["127.0.0.1/32", "::1/128"],
        "WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.1/32", "::1/128"],
        "LLM_ALLOWED_NETWORKS": ["127.0.0.1/32", "::1/128"],
    }
