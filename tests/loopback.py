"""The tests' servers (research sites, SMTP, IMAP, webhook receivers) listen on loopback,
which the settings refuse by default like any non-public address. The test session allows
it explicitly: in this process through the `settings` fixture (tests/conftest.py), in the
worker processes a test starts through their environment (`LOOPBACK_ENV`)."""

from __future__ import annotations

LOOPBACK_NETWORKS = ["127.0.0.1/32", "::1/128"]
NETWORK_SETTINGS = (
    "FETCH_ALLOWED_NETWORKS",
    "MAILBOX_ALLOWED_NETWORKS",
    "WEBHOOK_ALLOWED_NETWORKS",
    "LLM_ALLOWED_NETWORKS",
)
LOOPBACK_ENV = {name: ",".join(LOOPBACK_NETWORKS) for name in NETWORK_SETTINGS}
