"""Drafts per second through real Celery workers, against the ideal a provider allows.

A loopback server speaking the OpenAI wire format stands in for the provider: every call
takes DELAY seconds and at most PROVIDER_LIMIT run at once (the others wait for a slot, as
behind a provider's concurrency limit). A draft is two calls (the draft, then the claim
check), so the ideal is PROVIDER_LIMIT / (2 * DELAY) drafts per second: the provider
busy all the time. What is lost is a slot left idle while a worker thread does its own
part between calls: the claim, the briefs and their queries, the checks, the record, and
Celery's dispatch.

The workers are this project's Celery app on Redis and PostgreSQL, started here as
`celery worker -Q draft -P threads -c N` processes, the drafting tasks queued by
`messages_enqueue_drafting` as an import or a sequence queues them. Each setting in
SETTINGS is measured after a warm-up of two drafts a thread (every thread has its
connections and clients before the clock starts); the one the README documents (three
times the provider's limit in threads, over two processes) is judged. The stable prompt
prefix the drafting calls share is printed with the tokens the provider reported cached:
OpenAI caches prefixes from 1,024 tokens, so a prefix below that is never cached (issue 16).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._setup import ROOT, django_on_scratch_postgres, report

DELAY = 0.25  # seconds a call takes
PROVIDER_LIMIT = 8  # calls at once
DRAFTS = 160
BROKER = "redis://127.0.0.1:6379/12"
# (worker processes, threads each). The judged one is the README's: three times the limit
# in threads, over two processes. One process's threads share one interpreter lock: at
# 16 drafts a second a draft's own part (about 55 ms of CPU in the worker, Celery's
# included) kept it busy most of the time, and a thread back from the provider waited
# for the lock while a slot went idle.
SETTINGS = [(1, 2 * PROVIDER_LIMIT), (1, 3 * PROVIDER_LIMIT), (2, 3 * PROVIDER_LIMIT // 2)]
JUDGED = (2, 3 * PROVIDER_LIMIT // 2)
# The goal. On 2026-12-03, after the near-copy check stopped growing with the
# campaign, this machine measured one process of 24 threads at 0.86-0.95 and two of 12 at
# 0.82-0.94 a round, medians of three 0.91-0.93.
GOAL_RATIO = 0.9
# A regression guard below the goal, as the other benchmarks have: it fails a change that
# idles the provider (drafts made one after another would be under 0.1) or makes a draft's
# own part grow with its campaign again (the near-copy check did: 0.55-0.67 of the ideal
# with 24 threads), not a slow day of the machine (the judged setting's rounds ranged
# 0.82-0.94 in three runs on 2026-12-03).
MINIMUM_RATIO = 0.75
JUDGED_ROUNDS = 3
WORKER_MAIN = """
import sys

import django

django.setup()
from sdr.celery import app

app.conf.broker_transport_options = {
    **app.conf.broker_transport_options, "global_keyprefix": sys.argv[1]
}
app.worker_main(["worker", "-P", "threads", "-c", sys.argv[2], "-Q", "draft", "-l", "warning",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"])
"""


class Provider:
    """The loopback OpenAI server, answering a draft or a check by the schema asked for,
    PROVIDER_LIMIT calls at a time, and reporting the prompt tokens it would have cached
    as OpenAI does: the longest prefix shared with an earlier call, counted from 1,024
    tokens in steps of 128 (a token taken as four characters)."""

    def __init__(self) -> None:
        from tests.openai_server import FakeOpenAI

        self.slots = threading.BoundedSemaphore(PROVIDER_LIMIT)
        self.server = FakeOpenAI()
        self.server.responder = self.answer
        self.earlier: dict[str, str] = {}  # the last prompt per schema
        self.drafts = 0
        self.lock = threading.Lock()

    def answer(self, seen: Any) -> Any:
        from tests.openai_server import json_reply

        with self.slots:
            time.sleep(DELAY)
        name = seen.body["response_format"]["json_schema"]["name"]
        prompt = "".join(m["content"] for m in seen.messages)
        with self.lock:
            shared = os.path.commonprefix([prompt, self.earlier.get(name, "")])  # noqa: RUF071 - characters, as a prompt cache matches
            self.earlier[name] = prompt
        if name == "email_draft":
            data: dict[str, Any] = {
                "subject": "Picking carts",
                "body": f"Hi Dana,\n\n{self.pitch()}\n\nWorth a 15-minute call next week?\n\nSam",
                "citations": [],
                "claims": [],
            }
        else:
            data = {"claims": []}
        return json_reply(
            data,
            prompt_tokens=len(prompt) // 4,
            cached_tokens=cacheable(len(shared) // 4),
            completion_tokens=80,
        )

    def pitch(self) -> str:
        """A pitch no other draft of the campaign had (the checks hold near duplicates):
        one of OPENERS x BENEFITS x CLOSERS, in turn."""
        with self.lock:
            n, self.drafts = self.drafts, self.drafts + 1
        parts = [OPENERS, BENEFITS, CLOSERS]
        return " ".join(part[(n // len(part) ** i) % len(part)] for i, part in enumerate(parts))


# Sentences a model might write that the checks pass: no figures, names or events.
OPENERS = [
    "Our pick-to-light carts guide pickers shelf by shelf.",
    "Our carts light up the right bin for each order line.",
    "We help teams that pick by light stop walking the same aisle twice.",
    "A cart that shows the next pick saves searching along the racks.",
    "Our carts turn a paper pick list into lit bins.",
    "Our carts batch several orders into one walk through the warehouse.",
]
BENEFITS = [
    "With them new pickers learn the floor in days rather than weeks.",
    "The cart checks each item as it goes in, so mistakes drop.",
    "Your supervisors see every cart's progress from one screen.",
    "Your peak season then needs fewer temporary hands.",
    "Your orders leave the floor sooner, with less rework at packing.",
    "They run on the shelving you have, with no changes to the racks.",
]
CLOSERS = [
    "The setup takes no work from your tech team.",
    "Most sites start with a single cart and one shift.",
    "We can show it running in a site much like yours.",
    "A short pilot tells you quickly whether it fits.",
    "Your team keeps its current warehouse system.",
    "The training is a single morning on the floor.",
]


def cacheable(tokens: int) -> int:
    return 0 if tokens < 1024 else 1024 + (tokens - 1024) // 128 * 128


def _drafting_messages(workspace: Any, count: int) -> list[str]:
    from outreach.models import Message
    from tests.factories import (
        CampaignFactory,
        EnrollmentFactory,
        LeadFactory,
        MessageFactory,
        SequenceStepFactory,
    )

    campaign = CampaignFactory(workspace=workspace)
    step = SequenceStepFactory(workspace=workspace, campaign=campaign)
    ids = []
    for _ in range(count):
        email = f"dana.{uuid.uuid4().hex[:12]}@bench.example"
        lead = LeadFactory(workspace=workspace, first_name="Dana", email=email)
        enrollment = EnrollmentFactory(workspace=workspace, campaign=campaign, lead=lead)
        message = MessageFactory(
            workspace=workspace,
            enrollment=enrollment,
            step=step,
            status=Message.Status.DRAFTING,
            subject="",
            body="",
        )
        ids.append(str(message.pk))
    return ids


def _drafted(ids: list[str]) -> int:
    from outreach.models import Message

    return (
        Message.unscoped_objects.filter(pk__in=ids).exclude(status=Message.Status.DRAFTING).count()
    )


def _run(ids: list[str], timeout: float = 300) -> float:
    """Queue the drafts and wait for all of them; the seconds it took."""
    from django.db import transaction

    from outreach.messages import messages_enqueue_drafting

    started = time.perf_counter()
    with transaction.atomic():
        messages_enqueue_drafting(message_ids=ids)
    deadline = started + timeout
    while _drafted(ids) < len(ids):
        if time.perf_counter() > deadline:
            raise SystemExit(f"Drafting stalled: {_drafted(ids)} of {len(ids)} drafted.")
        time.sleep(0.02)
    return time.perf_counter() - started


def _worker(prefix: str, provider: Provider, threads: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LLM_BASE_URL": provider.server.base_url,
        "LLM_API_KEY": "sk-bench",
        "LLM_ALLOWED_NETWORKS": "127.0.0.1/32,::1/128",
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", WORKER_MAIN, prefix, str(threads)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def measure(workspace: Any, provider: Provider, prefix: str, setting: tuple[int, int]) -> float:
    processes, threads = setting
    with tempfile.TemporaryDirectory() as logs:
        log_files = [Path(logs) / f"worker{n}.log" for n in range(processes)]
        workers = [_worker(prefix, provider, threads, log) for log in log_files]
        try:
            # Imports, connections and clients, in every thread.
            _run(_drafting_messages(workspace, 2 * processes * threads))
            ids = _drafting_messages(workspace, DRAFTS)
            seconds = _run(ids)
        except SystemExit:
            for log in log_files:
                print(log.read_text()[-3000:])
            raise
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
    return DRAFTS / seconds


def cache_report(workspace: Any) -> str:
    """The drafting calls' prompt tokens, and how many the provider reported cached."""
    from django.db.models import Sum

    from sdr.models import LLMCall

    totals = LLMCall.unscoped_objects.filter(workspace=workspace, purpose="drafting").aggregate(
        prompt=Sum("tokens_in"), cached=Sum("cached_tokens")
    )
    return (
        f"drafting calls: {totals['cached'] or 0:,} of {totals['prompt'] or 0:,} prompt tokens "
        "cached (OpenAI caches a shared prefix from 1,024 tokens)"
    )


def main() -> int:
    django_on_scratch_postgres()
    from django.conf import settings

    from outreach.models import Message
    from sdr.models import Workspace
    from tests.celery_broker import isolated_redis_broker

    # The setup sends tasks to an in-memory broker, through the environment, which Celery
    # reads before its own settings: here they go to the workers.
    os.environ["CELERY_BROKER_URL"] = BROKER
    provider = Provider()
    workspace = Workspace.objects.create(name="bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    ideal = PROVIDER_LIMIT / (2 * DELAY)
    judged = 0.0
    try:
        with isolated_redis_broker(settings, BROKER) as prefix:
            for setting in SETTINGS:
                # The judged setting three times, its median round reported: on a shared
                # machine one run moved from 0.67 to 0.93 of the ideal with no change.
                rates = [
                    measure(workspace, provider, prefix, setting)
                    for _ in range(JUDGED_ROUNDS if setting == JUDGED else 1)
                ]
                rate = sorted(rates)[len(rates) // 2]
                processes, threads = setting
                print(
                    f"  {processes} worker process{'es' if processes > 1 else ''} of "
                    f"{threads} threads: {rate:.1f} drafts/s, "
                    f"{rate / ideal:.3f} of the ideal {ideal:.0f}"
                    + (
                        f" (median of {', '.join(f'{r / ideal:.3f}' for r in rates)})"
                        if len(rates) > 1
                        else ""
                    )
                )
                if setting == JUDGED:
                    judged = rate
        print(f"  {cache_report(workspace)}")
        print(f"  goal >= {GOAL_RATIO}: {'met' if judged / ideal >= GOAL_RATIO else 'not met'}")
    finally:
        # Messages first: they protect their step and campaign from a cascade.
        Message.unscoped_objects.filter(workspace=workspace).delete()
        workspace.delete()
    return report(
        f"Drafting through Celery workers ({DRAFTS} drafts, provider limit {PROVIDER_LIMIT}, "
        f"{DELAY * 1000:.0f} ms a call, {JUDGED[0]} processes of {JUDGED[1]} threads)",
        judged,
        ideal,
        "drafts/s",
        MINIMUM_RATIO,
        "ideal",
    )


if __name__ == "__main__":
    sys.exit(main())
