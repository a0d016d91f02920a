"""A real HTTP server on loopback for tests: routes, static site folders, request log."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[Seen], Route]] = {}
        self.directories: dict[str, Path] = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes; with Nagle on, the second waits for
            # the client's delayed ACK (~40 ms on loopback) on every response.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                server.requests.append(seen)
                route = server.find(seen)
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if "content-length" not in {k.lower() for k in route.headers}:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                # The client may stop reading at its byte cap.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(
        self,
        path: str,
        body: str | bytes = b"",
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        content_type: str = "text/html; charset=utf-8",
    ) -> None:
        body = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type, **(headers or {})}
        self.routes[path] = Route(status=status, body=body, headers=headers, delay=delay)

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
