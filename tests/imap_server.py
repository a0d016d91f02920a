"""A real IMAP server for the tests: a private Dovecot instance (Debian's dovecot-imapd) on
a free loopback port, with its own configuration, maildir and log in a temporary folder,
run in the foreground by the test and stopped with it. The system's Dovecot service is
never used and need not run.

One user (`USER` / `PASSWORD`, a passwd-file). `imap_server` speaks plain IMAP;
`imap_server_tls` only TLS (imaps) and `imap_server_starttls` plain IMAP that must be
upgraded with STARTTLS before signing in, both with a certificate for "localhost" from a
throwaway CA whose file the client must trust. Messages are delivered with IMAP APPEND, as a mail
server's delivery agent would file them.

Without Dovecot the fixtures fail, never skip: CI installs it (.ci/run), so a missing
server is a broken machine, not a reason to test less.
"""

from __future__ import annotations

import datetime
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from tests.httpserver import Certificates, issue_certificates

USER = "sam@pickwell.example"
PASSWORD = "imap-secret-42"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class ImapServer:
    host: str
    port: int
    root: Path
    security: str  # "none", "tls" or "starttls", as Mailbox.Security
    certificates: Certificates | None = None

    def client(self) -> IMAPClient:
        if self.security == "none":
            client = IMAPClient(self.host, port=self.port, ssl=False)
        else:
            assert self.certificates is not None
            context = ssl.create_default_context(cafile=str(self.certificates.ca))
            tls = self.security == "tls"
            client = IMAPClient("localhost", port=self.port, ssl=tls, ssl_context=context)
            if not tls:
                client.starttls(context)
        client.login(USER, PASSWORD)
        return client

    def deliver(
        self, raw: bytes, *, folder: str = "INBOX", when: datetime.datetime | None = None
    ) -> None:
        """File a message; `when` is its arrival time (INTERNALDATE), now by default."""
        client = self.client()
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, msg_time=when)
        finally:
            client.logout()

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY (it
        is the creation time in seconds, so wait for the next one)."""
        client = self.client()
        try:
            before = client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
            client.delete_folder(folder)
            time.sleep(1.1)
            client.create_folder(folder)
            after = client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"]
            assert after != before
        finally:
            client.logout()

    def uids(self, folder: str = "INBOX") -> list[int]:
        client = self.client()
        try:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("ALL"))
        finally:
            client.logout()

    def seen(self, folder: str = "INBOX") -> list[int]:
        client = self.client()
        try:
            client.select_folder(folder, readonly=True)
            return sorted(client.search("SEEN"))
        finally:
            client.logout()

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int, security: str, certificates: Certificates | None) -> str:
    if os.geteuid() == 0:
        # Dovecot refuses to run its login processes, or a mail user, as root: its own
        # unprivileged users do that work (made by the Debian package).
        login_user, internal_user = "dovenull", "dovecot"
        mail = pwd.getpwnam("dovecot")
    else:
        login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        mail = pwd.getpwuid(os.geteuid())
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:::::\n")
    tls = security == "tls"
    listeners = (
        f"inet_listener imap {{\n    port = 0\n  }}\n"
        f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {port}\n    ssl = yes\n  }}"
        if tls
        else f"inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n"
        f"  inet_listener imaps {{\n    port = 0\n  }}"
    )
    ssl_lines = (
        f"ssl = required\nssl_cert = <{certificates.cert}\nssl_key = <{certificates.key}\n"
        if certificates is not None
        else "ssl = no\n"
    )
    return f"""# A private instance for one test: nothing here touches the system's Dovecot.
base_dir = {root}/run
state_dir = {root}/state
instance_name = test-{port}
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {mail.pw_uid}
mail_location = maildir:{root}/mail/%n
mail_uid = {mail.pw_uid}
mail_gid = {mail.pw_gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = home={root}/mail/%n
}}
service imap-login {{
  chroot =
  {listeners}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def _start(security: str) -> Iterator[ImapServer]:
    if not os.path.exists(DOVECOT):
        pytest.fail(
            "Dovecot is not installed (apt-get install dovecot-imapd): the IMAP tests need "
            "a real server. .ci/run installs it.",
            pytrace=False,
        )
    # Dovecot's unprivileged processes must reach the folder, so it is a fresh one under
    # the system's temp directory, readable by them (pytest's tmp_path is private to us).
    root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        os.chown(root / "mail", mail.pw_uid, mail.pw_gid)
    certificates = issue_certificates(root, ["localhost"]) if security != "none" else None
    port = _free_port()
    (root / "dovecot.conf").write_text(_config(root, port, security, certificates))
    process = subprocess.Popen(  # noqa: S603  (our own config, a fixed binary)
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = ImapServer("127.0.0.1", port, root, security, certificates)
    try:
        _wait(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _wait(server: ImapServer, process: subprocess.Popen[bytes]) -> None:
    """Until the server greets on its port (and signs our user in), or fail with its log."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            pytest.fail(f"Dovecot stopped at start: {stderr}\n{server.log}", pytrace=False)
        try:
            server.client().logout()
            return
        except (OSError, IMAPClientError):
            time.sleep(0.05)
    pytest.fail(f"Dovecot did not answer on port {server.port}:\n{server.log}", pytrace=False)


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    yield from _start("none")


@pytest.fixture
def imap_server_tls() -> Iterator[ImapServer]:
    yield from _start("tls")


@pytest.fixture
def imap_server_starttls() -> Iterator[ImapServer]:
    yield from _start("starttls")
