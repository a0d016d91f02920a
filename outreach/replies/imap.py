"""The one seam to the customer's IMAP server: IMAPClient objects never leave this module.

`mailbox_poll` reads the messages that arrived in a mailbox's folder since the last poll
and stores each raw (`ingest.inbound_store`), which queues its reading. A message is read
once per UIDVALIDITY: the mailbox keeps the last UID it stored, advanced after each batch
is committed. When the server changes UIDVALIDITY (a folder recreated, a server moved) the
UIDs mean nothing any more: the folder is read again from the start, and the content hash
keeps a message stored before from being stored twice.

The folder is opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK[]: polling
never marks a customer's message as read. A message over INBOUND_MAX_BYTES (its
RFC822.SIZE, asked first) is not downloaded: its headers are stored, flagged, so a person
sees it exists.

Hosts are vetted like SMTP hosts (sdr/netguard.py via outreach/smtp.py): the vetted address
is dialled, and TLS checks the certificate against the host name. Failures are recorded on
the mailbox (`imap_last_error`) in plain words and never raised out of the beat task; the
password never appears in them (IMAPClient's own log redacts LOGIN as well).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imap4 import IMAP4WithTimeout
from imapclient.imapclient import SENT

from outreach.models import InboundEmail, Mailbox
from outreach.smtp import SmtpError, vet_mail_host

logger = logging.getLogger(__name__)

# A batch is also cut by bytes, so fifty large messages are never held in memory at once.
BATCH_MAX_BYTES = 64 * 1024 * 1024


class ImapError(Exception):
    """A connection, a sign-in or a read that failed, in words a person can act on."""


class ImapSignInRefused(ImapError):
    """The server refused the username or password."""


SIGN_IN_REFUSED = "refused the username or password."


@dataclass
class PollResult:
    mailbox_id: Any
    stored: int = 0  # new messages stored
    duplicates: int = 0  # already stored (a UIDVALIDITY change, a copy in two folders)
    oversized: int = 0  # over INBOUND_MAX_BYTES: headers stored, flagged
    skipped: bool = False  # another worker was polling this mailbox
    error: str = ""


def mailboxes_poll() -> list[PollResult]:
    """Poll every mailbox that has an IMAP server (the beat task, every minute). One
    mailbox's failure is recorded on it and never stops the others. A paused mailbox is
    polled too: pausing stops sending, and replies to what it sent still matter."""
    ids = list(imap_mailboxes().order_by("imap_polled_at").values_list("pk", flat=True))
    results = []
    for mailbox_id in ids:
        try:
            results.append(mailbox_poll(mailbox_id=mailbox_id))
        except Exception:
            # A bug, not the server (those are recorded as ImapError): log it, record it on
            # the mailbox, and go on to the next one.
            logger.exception("IMAP poll of mailbox %s failed", mailbox_id)
            _record(mailbox_id, "Internal error while reading the mailbox; we are looking.")
            results.append(PollResult(mailbox_id, error="internal error"))
    return results


def imap_mailboxes() -> QuerySet[Mailbox]:
    """Every mailbox with an IMAP server to sign in to now. One whose sign-in was refused is
    tried again once an hour (IMAP_REFUSED_RETRY_SECONDS), not at every poll: providers
    lock an account after repeated failed sign-ins, and a wrong password polled every
    minute would lock the customer out of their own mailbox. Changing its IMAP settings,
    or a "Test connection" that signs in, clears the refusal at once."""
    retry_after = timezone.now() - datetime.timedelta(seconds=settings.IMAP_REFUSED_RETRY_SECONDS)
    return Mailbox.unscoped_objects.exclude(imap_host="").exclude(
        imap_last_error__endswith=SIGN_IN_REFUSED, imap_polled_at__gt=retry_after
    )


def mailbox_poll(*, mailbox_id: Any) -> PollResult:
    """Read what is new in one mailbox's IMAP folder. Never raises for the server's
    sake: the error goes on the mailbox and in the result."""
    with _poll_lock(mailbox_id) as ours:
        if not ours:
            return PollResult(mailbox_id, skipped=True)
        mailbox = Mailbox.unscoped_objects.select_related("workspace").filter(pk=mailbox_id).first()
        if mailbox is None or not mailbox.imap_host:
            return PollResult(mailbox_id, skipped=True)
        result = PollResult(mailbox_id)
        try:
            _poll(mailbox, result)
        except ImapSignInRefused as error:
            result.error = str(error)
            if not mailbox.imap_last_error.endswith(SIGN_IN_REFUSED):
                _tell_owners(mailbox, result.error)
        except ImapError as error:
            result.error = str(error)
        _record(mailbox_id, result.error)
        logger.info(
            "IMAP poll of mailbox %s: %s new, %s already stored, %s too big%s",
            mailbox_id,
            result.stored,
            result.duplicates,
            result.oversized,
            ", failed" if result.error else "",
        )
        return result


def imap_check(*, mailbox: Mailbox) -> None:
    """Connect and sign in (the mailbox's "Test connection"), or raise ImapError."""
    with _connection(mailbox):
        pass  # signed in: that is the test


def sent_copies(*, mailbox: Mailbox, message_ids: list[str]) -> dict[str, datetime.datetime]:
    """Of these Message-IDs, those with a copy in the mailbox's Sent folder, each with the
    time the copy was filed; ImapError if the server cannot be read. The folder is the one
    the server flags as Sent (RFC 6154), else the one with a usual name (IMAPClient's
    `find_special_folder`); with none, nothing is found. Opened read-only."""
    if not message_ids:
        return {}
    with _connection(mailbox) as client:
        folder = client.find_special_folder(SENT)
        if folder is None:
            return {}
        client.select_folder(folder, readonly=True)
        found = {}
        for message_id in message_ids:
            # Our own Message-IDs (outreach/mime.py): printable ASCII, no quotes.
            uids = client.search(["HEADER", "Message-ID", message_id])
            if uids:
                filed = client.fetch(uids[:1], ["INTERNALDATE"])[uids[0]][b"INTERNALDATE"]
                found[message_id] = _aware(filed)
        return found


def _aware(moment: datetime.datetime) -> datetime.datetime:
    # IMAPClient gives INTERNALDATE in local time without a zone unless told otherwise.
    return moment if moment.tzinfo else moment.astimezone()


# --- polling --------------------------------------------------------------------------------


def _poll(mailbox: Mailbox, result: PollResult) -> None:
    from outreach.replies.ingest import inbound_store

    folder = mailbox.imap_folder or "INBOX"
    with _connection(mailbox) as client:
        try:
            selected = client.select_folder(folder, readonly=True)
        except IMAPClientError:
            raise ImapError(
                f"The folder {folder!r} does not exist on {mailbox.imap_host}; check the "
                "folder name."
            ) from None
        uidvalidity = int(selected[b"UIDVALIDITY"])
        last_uid = mailbox.imap_last_uid
        criteria: list[Any] = ["UID", f"{last_uid + 1}:*"]
        if mailbox.imap_uidvalidity != uidvalidity:
            last_uid = 0
            criteria = ["UID", "1:*", "SINCE", _read_from(mailbox)]
            _mailboxes(mailbox).update(imap_uidvalidity=uidvalidity, imap_last_uid=0)
        # "UID n:*" always answers the highest UID, even when it is below n.
        uids = sorted(uid for uid in client.search(criteria) if uid > last_uid)
        if not uids:
            return
        limit = settings.INBOUND_MAX_BYTES
        sizes = {
            uid: int(data.get(b"RFC822.SIZE", 0))
            for uid, data in client.fetch(uids, ["RFC822.SIZE"]).items()
        }
        for batch in _batches(uids, sizes):
            small = [uid for uid in batch if sizes.get(uid, 0) <= limit]
            big = [uid for uid in batch if sizes.get(uid, 0) > limit]
            raws: dict[int, tuple[bytes, int | None]] = {}
            if small:
                for uid, data in client.fetch(small, ["BODY.PEEK[]"]).items():
                    raws[uid] = (bytes(data.get(b"BODY[]") or b""), None)
            if big:
                for uid, data in client.fetch(big, ["BODY.PEEK[HEADER]"]).items():
                    raws[uid] = (bytes(data.get(b"BODY[HEADER]") or b""), sizes[uid])
            for uid in batch:
                if uid not in raws:
                    continue  # expunged between the two fetches: nothing left to read
                raw, size = raws[uid]
                _, created = inbound_store(
                    mailbox.workspace,
                    raw,
                    source=InboundEmail.Source.IMAP,
                    mailbox=mailbox,
                    imap_uidvalidity=uidvalidity,
                    imap_uid=uid,
                    size=size,
                )
                result.stored += created
                result.duplicates += not created
                result.oversized += created and size is not None
            # Each message above committed on its own; from here on a crash re-reads at
            # most the next batch, and the hash dedupes whatever it had already stored.
            _mailboxes(mailbox).filter(imap_uidvalidity=uidvalidity).update(imap_last_uid=batch[-1])


def _read_from(mailbox: Mailbox) -> datetime.date:
    """Where a folder read from the start begins. A customer's inbox holds years of mail
    that answers nothing of ours; reading it all would store, classify (at a model's
    price) and act on every old message. So a first read goes back IMAP_FIRST_READ_DAYS
    before the mailbox was added, and a read again after a UIDVALIDITY change as far
    before the last poll (the content hash skips what was stored already)."""
    start = mailbox.imap_polled_at if mailbox.imap_uidvalidity is not None else None
    start = start or mailbox.created_at
    return (start - datetime.timedelta(days=settings.IMAP_FIRST_READ_DAYS)).date()


def _batches(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = min(sizes.get(uid, 0), settings.INBOUND_MAX_BYTES)
        if batch and (len(batch) >= settings.IMAP_BATCH or total + size > BATCH_MAX_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def _mailboxes(mailbox: Mailbox) -> Any:
    return Mailbox.objects.for_workspace(mailbox.workspace).filter(pk=mailbox.pk)


def _tell_owners(mailbox: Mailbox, error: str) -> None:
    from sdr.notify import owners_notify

    owners_notify(
        mailbox.workspace,
        subject=f"Replies to {mailbox.from_email} are not being read",
        body=(
            f"{error}\n\nUntil the IMAP settings of {mailbox.from_email} are fixed, replies "
            "to it are not read, and sign-in is tried again only once an hour (repeated "
            "failed sign-ins can get an account locked). Update the password on the "
            'Mailboxes page and press "Test connection".'
        ),
    )


def _record(mailbox_id: Any, error: str) -> None:
    Mailbox.unscoped_objects.filter(pk=mailbox_id).update(
        imap_polled_at=timezone.now(), imap_last_error=error[:2000], updated_at=timezone.now()
    )


@contextlib.contextmanager
def _poll_lock(mailbox_id: Any) -> Iterator[bool]:
    """One poll of a mailbox at a time, across workers: a PostgreSQL session lock, taken
    without waiting. It is held by the connection, not a transaction (each batch commits
    while it is held), and a worker that dies drops its connection and with it the lock,
    so no lease has to run out. SQLite (the single-process demo) needs none."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = f"imap-poll:{mailbox_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        ours = bool(cursor.fetchone()[0])
    try:
        yield ours
    finally:
        if ours:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


# --- the connection -------------------------------------------------------------------------


@contextlib.contextmanager
def _connection(mailbox: Mailbox) -> Iterator[IMAPClient]:
    """A signed-in client, logged out at the end; ImapError in plain words otherwise."""
    host = mailbox.imap_host
    security = mailbox.imap_security or Mailbox.Security.TLS
    port = mailbox.imap_port or (993 if security == Mailbox.Security.TLS else 143)
    try:
        address = vet_mail_host(host, port)
    except SmtpError as error:
        raise ImapError(_plain_vetting(host, str(error))) from None
    timeout = settings.IMAP_TIMEOUT
    client: _VettedIMAPClient | None = None
    try:
        try:
            client = _VettedIMAPClient(
                address, port, name=host, tls=security == Mailbox.Security.TLS, timeout=timeout
            )
            if security == Mailbox.Security.STARTTLS:
                client.starttls_to(host, _tls_context())
            client.login(
                mailbox.imap_username or mailbox.from_email, str(mailbox.imap_password or "")
            )
        except LoginError:
            raise ImapSignInRefused(f"{host} {SIGN_IN_REFUSED}") from None
        except IMAPClientAbortError:
            raise ImapError(f"{host} closed the connection; check the port and security.") from None
        except IMAPClientError as error:
            if "STARTTLS" in str(error).upper() or "TLS" in str(error):
                raise ImapError(f"{host} does not offer STARTTLS on port {port}.") from None
            raise ImapError(f"{host} refused the sign-in: {_words(error)}") from None
        yield client
    except ImapError:
        raise
    except ConnectionRefusedError:
        raise ImapError(f"{host} refused the connection on port {port}.") from None
    except TimeoutError:
        raise ImapError(f"{host}:{port} did not answer in {timeout:g} s.") from None
    except ssl.SSLError as error:
        raise ImapError(
            f"TLS with {host} failed ({error.reason or error}); check the port and the "
            "security setting."
        ) from None
    except IMAPClientAbortError as error:
        raise ImapError(f"The connection to {host} dropped: {_words(error)}") from None
    except IMAPClientError as error:
        raise ImapError(f"{host} answered with an error: {_words(error)}") from None
    except OSError as error:
        raise ImapError(f"Could not connect to {host}:{port}: {error.strerror or error}.") from None
    finally:
        if client is not None:
            _close(client)


class _VettedIMAPClient(IMAPClient):
    """IMAPClient dialling a vetted address while TLS checks the certificate against the
    host name: IMAPClient would check it against whatever it was told to dial."""

    def __init__(self, address: str, port: int, *, name: str, tls: bool, timeout: float) -> None:
        self._tls_name = name
        super().__init__(
            address,
            port=port,
            ssl=tls,
            ssl_context=_tls_context() if tls else None,
            timeout=timeout,
        )

    def _create_IMAP4(self) -> Any:
        timeout = self._timeout.connect
        if self.ssl:
            return _TlsIMAP4(self.host, self.port, self._tls_name, self.ssl_context, timeout)
        return IMAP4WithTimeout(self.host, self.port, timeout)

    def starttls_to(self, name: str, context: ssl.SSLContext) -> None:
        # imaplib's starttls() checks the certificate against `host`, the address we
        # dialled: the name is what the certificate must carry.
        self._imap.host = name
        self.starttls(context)


class _TlsIMAP4(IMAP4WithTimeout):
    def __init__(
        self, address: str, port: int, name: str, context: ssl.SSLContext, timeout: float | None
    ) -> None:
        self._tls_name = name
        self._context = context
        super().__init__(address, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = super()._create_socket(timeout)
        return self._context.wrap_socket(sock, server_hostname=self._tls_name)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the system's CA certificates takes tens of milliseconds: once per process.
    return ssl.create_default_context()


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClientError, OSError):
        with contextlib.suppress(IMAPClientError, OSError):
            client.shutdown()


def _words(error: BaseException) -> str:
    text = str(error)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return text[:300] or type(error).__name__


def _plain_vetting(host: str, message: str) -> str:
    if message.startswith("Cannot resolve"):
        return f"Cannot resolve {host}: no such host name (check the spelling)."
    if "not a public address" in message:
        return f"{message} Mail servers must be reachable on the internet."
    return message
