"""A real SMTP server (aiosmtpd) on loopback for the tests: it keeps what it received and can
be told to answer with a failure code, to hang, or to drop the connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # "550 5.1.1 No such user" to refuse recipients, "451 4.3.0 Try later" for a transient
    # failure; applies to every recipient in `fail_for` (or all when it is empty).
    rcpt_reply: str = ""
    fail_for: set[str] = field(default_factory=set)
    data_reply: str = ""
    delay_seconds: float = 0.0
    # {username: password} to accept at AUTH; empty accepts any (the default).
    credentials: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received if address in r.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
        self.rcpt_reply = self.data_reply = ""
        self.fail_for = set()
        self.delay_seconds = 0.0
        self.credentials = {}


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        sink = self.sink
        if sink.rcpt_reply and (not sink.fail_for or address.lower() in sink.fail_for):
            return sink.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        sink = self.sink
        if sink.delay_seconds:
            time.sleep(sink.delay_seconds)
        if sink.data_reply:
            return sink.data_reply
        with sink.lock:
            sink.received.append(
                Received(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=list(envelope.rcpt_tos),
                    data=bytes(envelope.original_content or envelope.content or b""),
                )
            )
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no auth required; AUTH is accepted, or
    checked against `credentials` when a test sets them)."""
    sink = SmtpSink(port=_free_port())
    controller = Controller(
        _Handler(sink),
        hostname=sink.host,
        port=sink.port,
        auth_require_tls=False,
        auth_required=False,
        authenticator=lambda *args: _authenticate(sink, *args),
        decode_data=False,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def _authenticate(
    sink: SmtpSink, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    if not sink.credentials:
        return AuthResult(success=True)
    if not isinstance(data, LoginPassword):
        return AuthResult(success=False, handled=False)
    login = data.login.decode("utf-8", "replace")
    password = data.password.decode("utf-8", "replace")
    return AuthResult(success=sink.credentials.get(login) == password, handled=False)
