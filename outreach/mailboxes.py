"""Writes on mailboxes, and "Test connection".

The rules are here, not in a serializer or a form, so the API and the web page enforce the
same ones. Hosts are vetted when a mailbox is saved (a clear error at once, not a failed
send days later) and again at every connection (DNS may answer differently by then).

Secrets: passwords are kept encrypted by the model; they never go into an activity, a log
line or an error message. An update that does not mention a password keeps it.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads.normalize import InvalidValue, email_normalize, timezone_validate
from outreach.models import Mailbox
from outreach.replies.imap import ImapError, imap_check
from outreach.smtp import SmtpError, smtp_check, vet_mail_host
from sdr.activity import activity_record
from sdr.errors import AppError, ErrorCode
from sdr.models import Workspace

logger = logging.getLogger(__name__)

MAX_DAILY_CAP = 2000  # Google Workspace's own limit per user; no real mailbox sends more
MAX_MIN_INTERVAL_SECONDS = 86_400
MAX_WARMUP_STEP = 500
SECRET_FIELDS = ("smtp_password", "imap_password")
MAILBOX_FIELDS = [
    "from_name",
    "from_email",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "daily_cap",
    "min_interval_seconds",
    "warmup_enabled",
    "warmup_start",
    "warmup_increment",
    "signature",
    "postal_address",
    "timezone",
    "status",
]


def mailbox_create(*, workspace: Workspace, **fields: Any) -> Mailbox:
    """A new mailbox. The warm-up ramp is off unless `warmup_enabled` is given."""
    mailbox = Mailbox(workspace=workspace)
    _apply(mailbox, fields)  # resolves the hosts: outside the transaction
    if mailbox.warmup_enabled:
        mailbox.warmup_started_on = timezone.localdate()
    with transaction.atomic():
        _save(mailbox)
        activity_record(
            workspace=workspace,
            type="mailbox.created",
            object_type="mailbox",
            object_id=mailbox.pk,
            payload=_summary(mailbox),
        )
    return mailbox


def mailbox_update(*, mailbox: Mailbox, **fields: Any) -> Mailbox:
    """Change the given fields; a password left out (or, from a form, left blank by the
    caller) is kept."""
    before = {name: getattr(mailbox, name) for name in MAILBOX_FIELDS}
    was_warming = mailbox.warmup_enabled
    _apply(mailbox, fields)  # resolves the hosts: outside the transaction
    if mailbox.warmup_enabled and not was_warming:
        mailbox.warmup_started_on = timezone.localdate()
    changed = [name for name in MAILBOX_FIELDS if getattr(mailbox, name) != before[name]]
    if any(name.startswith("imap_") for name in changed):
        mailbox.imap_last_error = ""  # new settings: polled at once, refused or not before
    with transaction.atomic():
        _save(mailbox)
        if changed:
            activity_record(
                workspace=mailbox.workspace,
                type="mailbox.updated",
                object_type="mailbox",
                object_id=mailbox.pk,
                # Names only for secrets: that a password changed, never what it is.
                payload={**_summary(mailbox), "changed": changed},
            )
    return mailbox


@dataclass(frozen=True)
class MailboxTest:
    ok: bool
    smtp: str  # "OK" or what failed, in plain words
    imap: str | None  # None when no IMAP server is set
    tested_at: datetime

    @property
    def summary(self) -> str:
        parts = [f"SMTP: {self.smtp}"]
        if self.imap is not None:
            parts.append(f"IMAP: {self.imap}")
        return " ".join(parts)


def mailbox_test(*, mailbox: Mailbox, now: datetime | None = None) -> MailboxTest:
    """Connect and sign in to the SMTP server (and the IMAP one when set), then store when
    and with what result. Network I/O happens outside any transaction."""
    smtp_words = "OK: connected and signed in."
    smtp_ok = True
    try:
        smtp_check(mailbox=mailbox)
    except SmtpError as error:
        smtp_ok, smtp_words = False, _plain_smtp(mailbox, error)
    imap_words: str | None = None
    imap_ok = True
    if mailbox.imap_host:
        try:
            imap_check(mailbox=mailbox)
            imap_words = "OK: connected and signed in."
        except ImapError as error:
            imap_ok, imap_words = False, str(error)
    result = MailboxTest(
        ok=smtp_ok and imap_ok,
        smtp=smtp_words,
        imap=imap_words,
        tested_at=now or timezone.now(),
    )
    rows = Mailbox.objects.for_workspace(mailbox.workspace).filter(pk=mailbox.pk)
    rows.update(
        last_tested_at=result.tested_at, last_test_result=result.summary, updated_at=timezone.now()
    )
    if imap_ok and mailbox.imap_host:
        rows.update(imap_last_error="")  # signed in: the poll need not wait for its hour
    # A failing mailbox is not sent from (the dispatcher says why); a person's pause is
    # theirs to lift, whatever a test says.
    if result.ok:
        rows.filter(status=Mailbox.Status.FAILING).update(status=Mailbox.Status.ACTIVE)
    else:
        rows.filter(status=Mailbox.Status.ACTIVE).update(status=Mailbox.Status.FAILING)
    mailbox.refresh_from_db(fields=["status", "last_tested_at", "last_test_result"])
    logger.info("mailbox %s tested: %s", mailbox.pk, "ok" if result.ok else "failed")
    return result


# --- rules --------------------------------------------------------------------------------


def _apply(mailbox: Mailbox, fields: dict[str, Any]) -> None:
    """Check and set the given fields; AppError (400) with per-field messages."""
    errors: dict[str, list[str]] = {}

    def check(name: str, rule: Any) -> None:
        if name not in fields:
            return
        try:
            setattr(mailbox, name, rule(fields[name]))
        except (InvalidValue, ValueError, TypeError) as error:
            errors.setdefault(name, []).append(str(error))

    unknown = set(fields) - set(MAILBOX_FIELDS)
    if unknown:
        raise AppError(ErrorCode.INVALID, f"Unknown mailbox fields: {sorted(unknown)}.")
    check("from_email", email_normalize)
    check("from_name", lambda v: _text(v, 120, "The name"))
    check("smtp_host", lambda v: _text(v, 253, "The host").strip().rstrip(".").lower())
    check("imap_host", lambda v: _text(v, 253, "The host").strip().rstrip(".").lower())
    check("smtp_port", _port)
    check("imap_port", lambda v: None if v in (None, "") else _port(v))
    check("smtp_security", _security)
    check("imap_security", lambda v: _security(v or Mailbox.Security.TLS))
    check("smtp_username", lambda v: _text(v, 254, "The username"))
    check("imap_username", lambda v: _text(v, 254, "The username"))
    check("smtp_password", _password)
    check("imap_password", _password)
    check("daily_cap", lambda v: _bounded(v, 1, MAX_DAILY_CAP, "The daily cap"))
    check(
        "min_interval_seconds",
        lambda v: _bounded(v, 0, MAX_MIN_INTERVAL_SECONDS, "The minimum spacing"),
    )
    check("warmup_enabled", _flag)
    check("warmup_start", lambda v: _bounded(v, 1, MAX_WARMUP_STEP, "The warm-up start"))
    check("warmup_increment", lambda v: _bounded(v, 1, MAX_WARMUP_STEP, "The warm-up increment"))
    check("signature", lambda v: _text(v, 5000, "The signature"))
    check("postal_address", lambda v: _text(v, 1000, "The postal address"))
    check("timezone", lambda v: timezone_validate(_text(v, 64, "The time zone")))
    check("status", _status)
    if errors:
        raise AppError(ErrorCode.INVALID, _first(errors), details=errors)
    for name, message in _missing(mailbox).items():
        errors[name] = [message]
    if not errors:
        errors.update(_vet_hosts(mailbox, fields))
    if errors:
        raise AppError(ErrorCode.INVALID, _first(errors), details=errors)


def _missing(mailbox: Mailbox) -> dict[str, str]:
    missing = {}
    if not mailbox.from_email:
        missing["from_email"] = "The From address is required."
    if not mailbox.smtp_host:
        missing["smtp_host"] = "The SMTP server is required."
    return missing


def _vet_hosts(mailbox: Mailbox, fields: dict[str, Any]) -> dict[str, list[str]]:
    """The hosts must be public (or in MAILBOX_ALLOWED_NETWORKS); a plain connection, which
    would carry the password in clear text, only to an allowed (loopback) network."""
    errors: dict[str, list[str]] = {}
    servers = [("smtp", mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security)]
    if mailbox.imap_host:
        port = mailbox.imap_port or 993
        servers.append(("imap", mailbox.imap_host, port, mailbox.imap_security))
    for kind, host, port, security in servers:
        if not {f"{kind}_host", f"{kind}_port", f"{kind}_security"} & set(fields):
            continue  # unchanged: vetted when it was saved, and again at every connection
        try:
            address = vet_mail_host(host, port)
        except SmtpError as error:
            errors[f"{kind}_host"] = [_plain_vetting(host, str(error))]
            continue
        if security == Mailbox.Security.NONE and not _allowed(address):
            errors[f"{kind}_security"] = [
                "A plain connection would send the password in clear text; choose STARTTLS or TLS."
            ]
    return errors


def _allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.MAILBOX_ALLOWED_NETWORKS
    )


def _save(mailbox: Mailbox) -> None:
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        raise AppError(
            ErrorCode.CONFLICT,
            f"A mailbox for {mailbox.from_email} already exists in this workspace.",
            details={"from_email": ["already exists"]},
            status_code=409,
        ) from None


def _summary(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "from_email": mailbox.from_email,
        "smtp_host": mailbox.smtp_host,
        "smtp_port": mailbox.smtp_port,
        "imap_host": mailbox.imap_host,
        "status": mailbox.status,
    }


def _plain_vetting(host: str, message: str) -> str:
    if message.startswith("Cannot resolve"):
        return f"Cannot resolve {host}: no such host name (check the spelling)."
    if "not a public address" in message:
        return f"{message} Mail servers must be reachable on the internet."
    return message


def _plain_smtp(mailbox: Mailbox, error: SmtpError) -> str:
    words = str(error)
    if words.startswith("Cannot resolve") or "not a public address" in words:
        return _plain_vetting(mailbox.smtp_host, words)
    if "Connection refused" in words or "[Errno 111]" in words:
        return f"{mailbox.smtp_host} refused the connection on port {mailbox.smtp_port}."
    return words


def _first(errors: dict[str, list[str]]) -> str:
    return next(iter(errors.values()))[0]


def _text(value: Any, limit: int, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text.")
    if len(value) > limit:
        raise ValueError(f"{what} is at most {limit} characters.")
    if any(char in value for char in "\r\x00") or (
        "\n" in value and what not in {"The signature", "The postal address"}
    ):
        raise ValueError(f"{what} cannot contain line breaks or control characters.")
    return value


def _password(value: Any) -> str:
    password = _text(value, 1000, "The password")
    # smtplib and imaplib send sign-in data as ASCII and fail on anything else; better a
    # clear error now than a crash at the first send.
    if not password.isascii():
        raise ValueError(
            "The password can only contain ASCII characters (letters without accents, "
            "digits, punctuation): mail servers' sign-in does not carry others."
        )
    return password


def _port(value: Any) -> int:
    return _bounded(value, 1, 65535, "The port")


def _bounded(value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}.")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _security(value: Any) -> str:
    if value not in Mailbox.Security.values:
        raise ValueError(f"Security is one of {', '.join(Mailbox.Security.values)}.")
    return str(value)


def _status(value: Any) -> str:
    if value not in Mailbox.Status.values:
        raise ValueError(f"Status is one of {', '.join(Mailbox.Status.values)}.")
    return str(value)
