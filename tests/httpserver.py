"""A real HTTP(S) server on loopback for tests: routes, static site folders, request log.

    def test_something(http_server):
        http_server.route("/", "<html>...</html>", headers={"ETag": '"v1"'})
        http_server.route("/slow", "...", delay=2)  # answers after 2 s
        http_server.route("/big", body, declare_length=False)  # no Content-Length
        http_server.handler("/n", lambda seen: Route(status=500))  # computed per request
        http_server.serve_directory("/", SITES / "acme")  # index.html for "/"
        ...
        assert http_server.paths() == ["/robots.txt", "/"]
        assert http_server.requests[-1].headers["user-agent"].startswith("SDRResearchBot")

For HTTPS, `issue_certificates(tmp_path, ["acme.example"])` makes a throwaway CA and a
certificate for those names; `LoopbackServer(certificates=...)` serves with it and records
the SNI name each connection asked for.
"""

from __future__ import annotations

import contextlib
import datetime
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering at all
    declare_length: bool = True  # False: no Content-Length; the body ends when we hang up
    drip: float = 0.0  # seconds between 1 KiB pieces of the body: a slow server


@dataclass
class Seen:
    path: str
    headers: dict[str, str]  # names lowercased
    sni: str | None = None  # the name the TLS client asked for, on HTTPS
    method: str = "GET"
    body: bytes = b""


@dataclass(frozen=True)
class Certificates:
    ca: Path  # what a client must trust: ssl.create_default_context(cafile=...)
    cert: Path
    key: Path


class LoopbackServer:
    def __init__(
        self, *, certificates: Certificates | None = None, keep_alive: bool = False
    ) -> None:
        self.routes: dict[str, Route | Callable[[Seen], Route]] = {}
        self.directories: dict[str, Path] = {}
        self.requests: list[Seen] = []
        self.scheme = "https" if certificates else "http"
        self._httpd = _Server(("127.0.0.1", 0), _handler_class(self, keep_alive=keep_alive))
        if certificates is not None:
            self._httpd.tls = _server_context(certificates)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/", *, host: str = "127.0.0.1") -> str:
        """A URL on this server; another host name needs a resolver that maps it here."""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(
        self,
        path: str,
        body: str | bytes = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        content_type: str = "text/html; charset=utf-8",
        declare_length: bool = True,
        drip: float = 0.0,
    ) -> None:
        body = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type, **(headers or {})}
        self.routes[path] = Route(status, body, headers, delay, declare_length, drip)

    def handler(self, path: str, respond: Callable[[Seen], Route]) -> None:
        self.routes[path] = respond

    def serve_directory(self, prefix: str, directory: Path) -> None:
        """Serve a folder of site files under prefix ("/" for the root); index.html for dirs."""
        self.directories[prefix.rstrip("/") + "/"] = Path(directory)

    def find(self, seen: Seen) -> Route:
        path = seen.path.split("?", 1)[0]
        route = self.routes.get(path)
        if route is not None:
            return route(seen) if callable(route) else route
        for prefix, directory in sorted(self.directories.items(), key=lambda i: -len(i[0])):
            if path.startswith(prefix):
                file = (directory / path[len(prefix) :]).resolve()
                if file.is_dir():
                    file = file / "index.html"
                if directory.resolve() in file.parents and file.is_file():
                    return Route(body=file.read_bytes(), headers={"Content-Type": _type(file)})
        return Route(status=404, body=b"not found", headers={"Content-Type": "text/plain"})

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still sleeping on a slow route never blocks close()
    tls: ssl.SSLContext | None = None

    def finish_request(self, request, client_address) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs here, in the connection's thread, not in the accepting one.
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate: some tests are about exactly that
        try:
            super().finish_request(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # Clients hang up mid-answer on purpose (byte cap, deadline); anything else is news.
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError):
            super().handle_error(request, client_address)


def _handler_class(server: LoopbackServer, *, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"
        # Headers and body go out in two writes; with Nagle on, the second waits for
        # the client's delayed ACK (~40 ms on loopback) on every response.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.path, headers, getattr(self.connection, "sni", None))
            server.requests.append(seen)
            route = server.find(seen)
            time.sleep(route.delay)
            # The client may hang up at any point: byte cap, deadline, timeout.
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                self._answer(route)

        def do_POST(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen = Seen(self.path, headers, getattr(self.connection, "sni", None), "POST", body)
            server.requests.append(seen)
            route = server.find(seen)
            time.sleep(route.delay)
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                self._answer(route)

        def _answer(self, route: Route) -> None:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not route.declare_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif "content-length" not in {k.lower() for k in route.headers}:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.drip:
                self.wfile.write(route.body)
                return
            for start in range(0, len(route.body), 1024):
                self.wfile.write(route.body[start : start + 1024])
                time.sleep(route.drip)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _server_context(certificates: Certificates) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert, certificates.key)

    def remember_sni(connection, name, _context) -> None:
        connection.sni = name  # read back by the handler, per connection

    context.sni_callback = remember_sni
    return context


def issue_certificates(directory: Path, names: list[str]) -> Certificates:
    """A throwaway CA and a server certificate for names, as PEM files in directory."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (
        _certificate(subject, ca_name, key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _certificate(subject, issuer, public_key, now) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _type(file: Path) -> str:
    return {
        ".html": "text/html; charset=utf-8",
        ".xml": "application/xml",
        ".txt": "text/plain; charset=utf-8",
        ".css": "text/css",
        ".js": "text/javascript",
    }.get(file.suffix, "application/octet-stream")


@pytest.fixture
def http_server():
    server = LoopbackServer()
    yield server
    server.close()
