"""The one seam to the customer's SMTP server: smtplib objects never leave this module.

`smtp_send` hands one message to the mailbox's server and either returns the server's
answer or raises `SmtpError`, which says whether trying again later can help (4xx,
disconnects, timeouts) or not (5xx), and whether the recipient itself was refused. The host
is vetted like a research URL before any connection, so a mailbox cannot reach the internal
network (`MAILBOX_ALLOWED_NETWORKS` lets the demo and the tests use loopback).
Callers never hold a transaction open around these calls (STYLE.md, habit 6).

With `EMAIL_DELIVERY = "console"` (the zero-setup demo) `smtp_send` prints the message to
standard output and answers as a server would, without connecting anywhere.
"""

from __future__ import annotations

import functools
import re
import smtplib
import socket
import ssl
import sys
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

from django.conf import settings

from outreach.models import Mailbox

# How a message is written on the wire: CRLF line ends, long headers folded.
SMTP_POLICY = policy.SMTP


@dataclass
class SmtpError(Exception):
    """A send or a connection test that failed, in words a person can act on."""

    message: str
    transient: bool
    code: int | None = None
    recipient_refused: bool = False
    # The connection failed after the whole message was handed over, before the server's
    # answer: it may have been delivered. Never retried blindly (the message is "unknown").
    handed_over: bool = False
    # The mailbox's own settings were refused (its sign-in, STARTTLS, TLS): no message of
    # it can go until a person fixes them, and none is at fault.
    mailbox_fault: bool = False

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SmtpResult:
    code: int
    response: str


def smtp_send(*, mailbox: Mailbox, message: EmailMessage | bytes, recipient: str) -> SmtpResult:
    """Send `message` to `recipient` through the mailbox's server on a connection of its
    own. Bytes go on the wire exactly as given (a DKIM signature covers them); an
    EmailMessage is flattened first."""
    with SmtpSession(mailbox) as session:
        return session.send(message=message, recipient=recipient)


class SmtpSession:
    """One connection to a mailbox's server, opened at the first send and kept for the next
    ones (a batch of the mailbox's messages): connecting, EHLO, STARTTLS and AUTH cost more
    round trips than the message itself.

    A failure that ends a message leaves the connection ready for the next one: after a
    refusal the transaction is reset (RSET), after a dropped connection the next send dials
    again. A reused connection the server closed while idle is dialled again once, since
    nothing was handed over yet; `connections` counts the dials.
    """

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.connections = 0
        self._opened: _connection | None = None
        self._server: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, *, message: EmailMessage | bytes, recipient: str) -> SmtpResult:
        """Hand one message over, or raise SmtpError (see `smtp_send`)."""
        data = message if isinstance(message, bytes) else message.as_bytes(policy=SMTP_POLICY)
        if settings.EMAIL_DELIVERY == "console":
            return _print(self.mailbox, data, recipient)
        # A kept connection the server closed while idle is dialled again, once.
        for fresh in (self._server is None, True):
            try:
                return self._send(self._connect(), data, recipient)
            except _IdleDropped as error:
                self.close()
                if fresh:
                    raise SmtpError(
                        f"The connection to {self.mailbox.smtp_host} dropped while sending: "
                        f"{error.__cause__}",
                        transient=True,
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._opened is not None:
            self._opened.__exit__()
        self._opened = self._server = None

    def _connect(self) -> smtplib.SMTP:
        if self._server is None:
            opened = _connection(self.mailbox)
            self._server = opened.__enter__()  # SmtpError if it cannot connect
            self._opened = opened
            self.connections += 1
        return self._server

    def _send(self, server: smtplib.SMTP, data: bytes, recipient: str) -> SmtpResult:
        mailbox = self.mailbox
        try:
            code, text = _deliver(server, mailbox.from_email, recipient, data)
        except smtplib.SMTPRecipientsRefused as error:
            self._reset()
            code, text = next(iter(error.recipients.values()))
            raise _from_reply(code, text, "The recipient was refused", recipient=True) from None
        except smtplib.SMTPSenderRefused as error:
            self._reset()
            raise _from_reply(error.smtp_code, error.smtp_error, "The sender was refused") from None
        except smtplib.SMTPDataError as error:
            self._reset()
            raise _from_reply(
                error.smtp_code, error.smtp_error, "The message was refused"
            ) from None
        except smtplib.SMTPResponseException as error:
            self._reset()
            raise _from_reply(error.smtp_code, error.smtp_error, "The server refused") from None
        except smtplib.SMTPNotSupportedError as error:
            self._reset()
            raise SmtpError(
                f"{mailbox.smtp_host} cannot take this message: {error}", False
            ) from None
        except SmtpError:
            self.close()  # handed over, answer lost: this connection is done
            raise
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            raise SmtpError(
                f"The connection to {mailbox.smtp_host} dropped while sending: {error}",
                transient=True,
            ) from None
        return SmtpResult(code=code, response=_text(text))

    def _reset(self) -> None:
        """End the refused transaction so the next message starts clean; a server that
        does not answer RSET is dialled again next time."""
        if self._server is None:
            return
        try:
            code, _ = self._server.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self.close()


class _IdleDropped(Exception):
    """The connection was gone at MAIL FROM, before anything of the message was sent."""


def _deliver(server: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> tuple[int, bytes]:
    """MAIL, RCPT and DATA, by hand rather than with `sendmail`, to know how far it got: a
    failure before the end of DATA is safe to retry, one after it may have delivered."""
    options = []
    if not (sender + recipient).isascii():
        if not server.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("the address is not ASCII and SMTPUTF8 is off")
        options.append("SMTPUTF8")
    try:
        code, reply = server.mail(sender, options)
    except (smtplib.SMTPServerDisconnected, ConnectionError) as error:
        raise _IdleDropped() from error
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = server.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = server.docmd("data")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    payload = re.sub(rb"(?m)^\.", b"..", data)
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    # A failure while writing means the final dot never arrived, so the server dropped the
    # message (raised as a transient error by the caller); only once it is all written can
    # the server have it, and then a lost answer leaves us not knowing.
    server.send(payload + b".\r\n")
    try:
        code, reply = server.getreply()
    except (smtplib.SMTPServerDisconnected, OSError) as error:
        raise SmtpError(
            f"The connection dropped after the message was handed over, before the server "
            f"answered ({error}): it may or may not have been delivered.",
            transient=False,
            handed_over=True,
        ) from None
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return code, reply


def _print(mailbox: Mailbox, data: bytes, recipient: str) -> SmtpResult:
    rule = "-" * 72
    sys.stdout.write(
        f"{rule}\nEMAIL_DELIVERY=console: from {mailbox.from_email} to {recipient}\n{rule}\n"
        f"{data.decode('utf-8', 'replace').replace(chr(13), '')}\n{rule}\n"
    )
    sys.stdout.flush()
    return SmtpResult(code=250, response="Printed to the console (EMAIL_DELIVERY=console)")


def smtp_check(*, mailbox: Mailbox) -> None:
    """Connect and sign in, or raise SmtpError saying what failed."""
    with _connection(mailbox) as server:
        server.noop()


class _connection:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.server: smtplib.SMTP | None = None

    def __enter__(self) -> smtplib.SMTP:
        mailbox = self.mailbox
        address = vet_mail_host(mailbox.smtp_host, mailbox.smtp_port)
        timeout = settings.SMTP_TIMEOUT
        context = _tls_context()
        try:
            if mailbox.smtp_security == Mailbox.Security.TLS:
                server: smtplib.SMTP = _VettedSMTPSSL(
                    mailbox.smtp_host, timeout=timeout, context=context
                )
            else:
                server = smtplib.SMTP(timeout=timeout)
            self.server = server
            # Dial the vetted address, never the name again (DNS could answer differently).
            server.connect(address, mailbox.smtp_port)
            server.ehlo_or_helo_if_needed()
            if mailbox.smtp_security == Mailbox.Security.STARTTLS:
                # starttls() checks the certificate against `_host`, which connect() set to
                # the address we dialled: the name is what the certificate must carry.
                server._host = mailbox.smtp_host  # type: ignore[attr-defined]
                server.starttls(context=context)
                server.ehlo()
            if mailbox.smtp_username:
                server.login(mailbox.smtp_username, str(mailbox.smtp_password or ""))
        except smtplib.SMTPAuthenticationError:
            self._close()
            raise SmtpError(
                f"{mailbox.smtp_host} refused the username or password.",
                transient=False,
                mailbox_fault=True,
            ) from None
        except smtplib.SMTPNotSupportedError:
            self._close()
            raise SmtpError(
                f"{mailbox.smtp_host} does not offer STARTTLS or sign-in on port "
                f"{mailbox.smtp_port}; check the security setting.",
                transient=False,
                mailbox_fault=True,
            ) from None
        except ssl.SSLError as error:
            self._close()
            raise SmtpError(
                f"TLS with {mailbox.smtp_host} failed ({error.reason}); check the port and "
                "the security setting.",
                transient=False,
                mailbox_fault=True,
            ) from None
        except TimeoutError:
            self._close()
            raise SmtpError(
                f"{mailbox.smtp_host}:{mailbox.smtp_port} did not answer in {timeout:g} s.",
                transient=True,
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            self._close()
            raise SmtpError(
                f"Could not connect to {mailbox.smtp_host}:{mailbox.smtp_port}: {error}",
                transient=True,
            ) from None
        return server

    def __exit__(self, *exc: object) -> None:
        self._close()

    def _close(self) -> None:
        if self.server is None:
            return
        try:
            self.server.quit()
        except (smtplib.SMTPException, OSError):
            self.server.close()
        self.server = None


class _VettedSMTPSSL(smtplib.SMTP_SSL):
    """SMTP over TLS to a vetted address, checking the certificate against the host name
    (smtplib would check it against the address it was told to dial)."""

    def __init__(self, name: str, **kwargs: object) -> None:
        self._tls_name = name
        super().__init__(**kwargs)  # type: ignore[arg-type]

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((host, port), timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._tls_name)


def vet_mail_host(host: str, port: int) -> str:
    """The address to dial for a mailbox host, or SmtpError if it is not a public one."""
    from sdr.netguard import AddressRefused, vet_host

    try:
        return vet_host(host, port, allowed_networks=settings.MAILBOX_ALLOWED_NETWORKS)
    except AddressRefused as error:
        raise SmtpError(str(error), transient=False) from None


def _from_reply(code: int, text: bytes | str, what: str, *, recipient: bool = False) -> SmtpError:
    words = _text(text)
    return SmtpError(
        f"{what}: {code} {words}",
        transient=400 <= code < 500,
        code=code,
        recipient_refused=recipient and code >= 500,
    )


def _text(text: bytes | str) -> str:
    return (text.decode("utf-8", "replace") if isinstance(text, bytes) else text)[:1000]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates takes tens of milliseconds: once per process,
    # not once per message. A context is safe to share between connections and threads.
    return ssl.create_default_context()
