"""Structured model calls per second, against the ideal of concurrency / server delay.

A loopback server speaking the OpenAI wire format answers every call after a fixed delay,
so the ideal throughput of C concurrent workers is C / delay. What is lost on the way is
ours: the SDK, JSON schema validation and the LLMCall row written per attempt. A draft is
one drafting call plus one checking call, so drafts per second are half of this.
"""

from __future__ import annotations

import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import django_on_scratch_postgres, report

DELAY = 0.05
CONCURRENCY = 8
CALLS = 160
MINIMUM_RATIO = 0.5  # at least half of the ideal: overhead per call well under the delay
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["subject", "body"],
    "properties": {"subject": {"type": "string"}, "body": {"type": "string"}},
}


def main() -> int:
    django_on_scratch_postgres()
    from django.conf import settings
    from django.db import connection

    from sdr.llm import Purpose, structured_completion, untrusted_block
    from sdr.models import Workspace
    from tests.openai_server import FakeOpenAI, json_reply

    server = FakeOpenAI()
    server.responder = lambda seen: json_reply(
        {"subject": "Hi", "body": "Short email."}, delay=DELAY
    )
    settings.LLM_BASE_URL, settings.LLM_API_KEY = server.base_url, "bench"
    workspace = Workspace.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")

    def one(index: int) -> None:
        try:
            structured_completion(
                workspace=workspace,
                purpose=Purpose.DRAFTING,
                prompt_version="bench",
                system="Write an email.",
                stable_context="SELLER: Pickwell",
                untrusted_data=untrusted_block("FACTS", {"lead": index}),
                task="Draft it.",
                schema=SCHEMA,
                schema_name="draft",
            )
        finally:
            connection.close()  # each worker thread has its own connection

    try:
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, range(CONCURRENCY)))  # warm up connections and the client
            started = time.perf_counter()
            list(pool.map(one, range(CALLS)))
            elapsed = time.perf_counter() - started
    finally:
        workspace.delete()
        server.close()
    return report(
        f"structured calls ({CALLS}, {CONCURRENCY} at a time, {DELAY * 1000:.0f} ms server delay)",
        CALLS / elapsed,
        CONCURRENCY / DELAY,
        "calls/s",
        MINIMUM_RATIO,
        "ideal",
    )


if __name__ == "__main__":
    sys.exit(main())
