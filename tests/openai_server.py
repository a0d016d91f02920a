"""A loopback server speaking the OpenAI Chat Completions wire format, for the real SDK.

Answers come from a script (a queue) or, when the script is empty, from a responder
function of the request. Every request is recorded with its headers, JSON body and
arrival time. Only `POST /v1/chat/completions` exists; anything else is a 404, so a
client that drifts to another API shows up in the tests.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

COMPLETIONS_PATH = "/v1/chat/completions"
# OpenAI's error `type` per status, as its API sends them.
_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}


@dataclass
class Reply:
    content: str | None = None
    refusal: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering: timeouts, the benchmark
    hang_up: bool = False  # close the connection without answering
    prompt_tokens: int = 120
    cached_tokens: int = 0
    completion_tokens: int = 40


def json_reply(data: Any, **kwargs: Any) -> Reply:
    return Reply(content=json.dumps(data), **kwargs)


def error_reply(status: int, retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status=status, headers=headers)


@dataclass
class Seen:
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    path: str = COMPLETIONS_PATH
    at: float = 0.0  # time.monotonic() on arrival

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", [])


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.responder: Callable[[Seen], Reply] | None = None
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes; with Nagle on, the second waits for
            # the client's delayed ACK (~40 ms on loopback) on every response.
            disable_nagle_algorithm = True
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                seen = Seen(
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.path,
                    time.monotonic(),
                )
                server.requests.append(seen)
                if self.path != COMPLETIONS_PATH:
                    self.answer(Reply(status=404), body)
                    return
                reply = server.next_reply(seen)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hang_up:
                    self.close_connection = True
                    return
                self.answer(reply, body)

            def answer(self, reply: Reply, request: dict[str, Any]) -> None:
                payload = server.payload(reply, request)
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                # A client that timed out has hung up already.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def next_reply(self, seen: Seen) -> Reply:
        if self.script:
            return self.script.popleft()
        if self.responder is not None:
            return self.responder(seen)
        return Reply(status=500)  # an unscripted request fails loudly

    def payload(self, reply: Reply, request: dict[str, Any]) -> bytes:
        if reply.status != 200:
            error_type = _ERROR_TYPES.get(reply.status, "server_error")
            return json.dumps(
                {"error": {"message": "scripted failure", "type": error_type, "code": None}}
            ).encode()
        return json.dumps(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model", "test-model"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": reply.content,
                            "refusal": reply.refusal,
                        },
                    }
                ],
                "usage": {
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
                },
            }
        ).encode()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def use_openai_server(settings: Any, server: FakeOpenAI) -> None:
    """Point the LLM settings at `server` (the fixture does; the benchmark too)."""
    settings.LLM_BASE_URL = server.base_url
    settings.LLM_API_KEY = "sk-test-settings-key"
    settings.LLM_TIMEOUT = 5
    settings.LLM_MAX_RETRIES = 2


@pytest.fixture
def openai_server(settings):
    server = FakeOpenAI()
    use_openai_server(settings, server)
    yield server
    server.close()
