"""A loopback server speaking Stripe's wire format, for the real `stripe` SDK.

Only the calls billing/stripe_client.py makes exist; anything else is a 404 in Stripe's
error envelope, so a client that drifts to another API shows up in the tests. Requests are
form-encoded (`payload[value]=1`, `lookup_keys[0]=...`), answers are JSON objects with an
`object` field, errors are `{"error": {"type", "message", "code"}}`. Like Stripe:

- a POST with an `Idempotency-Key` seen before is answered with the first answer again
  (`Idempotent-Replayed: true`); the same key with other parameters is a 400;
- a meter event whose `identifier` the server already holds is refused with a 400
  ("An event already exists with identifier ...", `Stripe-Should-Retry: false`);
- the meter events received are kept (`meter_events`), with cancellations applied.

`delay_next(path, seconds)` makes the next request to a path wait before answering after
it has done its work: a client timeout on a request that did reach Stripe. `fail_next`
answers the next request with an error without doing anything.

Webhooks: `signed(event, secret)` gives the body and the `Stripe-Signature` header made
the way Stripe makes them (HMAC-SHA256 over "timestamp.body").
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

_TOKEN = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


def form_decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [a or b for a, b in _TOKEN.findall(key)]
        node = root
        for part, following in itertools.zip_longest(parts, parts[1:]):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


class StripeFailure(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        return {"error": error}


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]  # lower-cased names
    at: float = 0.0


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeStripe:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[Seen] = []
        self.meter_events: dict[str, dict[str, Any]] = {}  # identifier -> event
        self.cancelled: set[str] = set()
        self.meters: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.balance_transactions: list[dict[str, Any]] = []
        self.invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.checkout_sessions: list[dict[str, Any]] = []
        self._idempotent: dict[str, tuple[dict[str, Any], Answer]] = {}
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._failures: dict[str, deque[StripeFailure]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- test controls -------------------------------------------------------------------

    def delay_next(self, path: str, seconds: float) -> None:
        self._delays[path].append(seconds)

    def fail_next(self, path: str, status: int, message: str = "boom", **kwargs: Any) -> None:
        error_type = "api_error" if status >= 500 else "invalid_request_error"
        self._failures[path].append(StripeFailure(status, message, type=error_type, **kwargs))

    def customer_add(self, customer_id: str | None = None, **fields: Any) -> str:
        customer_id = customer_id or self._id("cus")
        self.customers[customer_id] = {
            "id": customer_id,
            "object": "customer",
            "balance": 0,
            **fields,
        }
        return customer_id

    def invoice_add(self, customer_id: str, *, total: int, status: str = "paid") -> dict:
        invoice = {
            "id": self._id("in"),
            "object": "invoice",
            "customer": customer_id,
            "number": f"SDR-{len(self.invoices[customer_id]) + 1:04d}",
            "status": status,
            "total": total,
            "currency": "usd",
            "created": int(time.time()),
            "hosted_invoice_url": "https://invoice.stripe.test/i/1",
        }
        self.invoices[customer_id].insert(0, invoice)
        return invoice

    def live_events(self, event_name: str | None = None) -> list[dict[str, Any]]:
        """Meter events received and not cancelled."""
        return [
            e
            for i, e in self.meter_events.items()
            if i not in self.cancelled and (event_name is None or e["event_name"] == event_name)
        ]

    def paths(self, method: str = "POST") -> list[str]:
        return [s.path for s in self.requests if s.method == method]

    # -- the API -------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_test{next(self._ids):06d}{uuid.uuid4().hex[:8]}"

    def handle(self, seen: Seen) -> Answer:
        with self.lock:
            self.requests.append(seen)
            failures = self._failures.get(seen.path)
            if failures:
                failure = failures.popleft()
                return Answer(failure.status, failure.body(), failure.headers)
            if not seen.headers.get("authorization", "").startswith("Bearer sk_"):
                raise StripeFailure(401, "Invalid API Key provided.", code="api_key_invalid")
            key = seen.headers.get("idempotency-key") if seen.method == "POST" else None
            if key is not None and key in self._idempotent:
                params, answer = self._idempotent[key]
                if params != seen.params:
                    raise StripeFailure(
                        400,
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                        type="idempotency_error",
                    )
                return Answer(answer.status, answer.body, {"Idempotent-Replayed": "true"})
            try:
                answer = Answer(200, self._route(seen))
            except StripeFailure as failure:
                answer = Answer(failure.status, failure.body(), failure.headers)
            # Stripe keeps the first answer to a key, errors included (but not 5xx).
            if key is not None and answer.status < 500:
                self._idempotent[key] = (seen.params, answer)
            return answer

    def _route(self, seen: Seen) -> dict[str, Any]:
        m, path, p = seen.method, seen.path, seen.params
        if (m, path) == ("POST", "/v1/billing/meter_events"):
            return self._meter_event(p)
        if (m, path) == ("POST", "/v1/billing/meter_event_adjustments"):
            return self._adjustment(p)
        if path == "/v1/billing/meters":
            return self._list(list(self.meters.values()), path) if m == "GET" else self._meter(p)
        if match := re.fullmatch(r"/v1/billing/meters/([^/]+)/event_summaries", path):
            return self._summaries(match[1], p)
        if (match := re.fullmatch(r"/v1/billing/meters/([^/]+)", path)) and m == "POST":
            meter = self._get(self.meters, match[1], "meter")
            meter.update({k: v for k, v in p.items() if k == "display_name"})
            return meter
        if path == "/v1/products" and m == "POST":
            if p.get("id") in self.products:
                raise StripeFailure(400, "Product already exists.", code="resource_already_exists")
            product = {
                "id": p.get("id") or self._id("prod"),
                "object": "product",
                "name": p["name"],
                "active": True,
            }
            self.products[product["id"]] = product
            return product
        if match := re.fullmatch(r"/v1/products/([^/]+)", path):
            product = self._get(self.products, match[1], "product")
            if m == "POST":
                product.update({k: v for k, v in p.items() if k == "name"})
            return product
        if path == "/v1/prices":
            return self._prices_list(p) if m == "GET" else self._price(p)
        if match := re.fullmatch(r"/v1/customers/([^/]+)/balance_transactions", path):
            return self._balance(match[1], p)
        if match := re.fullmatch(r"/v1/customers/([^/]+)", path):
            return self._get(self.customers, match[1], "customer")
        if (m, path) == ("POST", "/v1/checkout/sessions"):
            session = {
                "id": self._id("cs"),
                "object": "checkout.session",
                **p,
                "url": "https://checkout.stripe.test/c/pay/session",
            }
            self.checkout_sessions.append(session)
            return session
        if (m, path) == ("POST", "/v1/billing_portal/sessions"):
            self._get(self.customers, p.get("customer", ""), "customer")
            return {
                "id": self._id("bps"),
                "object": "billing_portal.session",
                "customer": p["customer"],
                "url": "https://billing.stripe.test/p/session",
            }
        if (m, path) == ("GET", "/v1/invoices"):
            return self._list(self.invoices.get(p.get("customer", ""), []), path)
        raise StripeFailure(404, f"Unrecognized request URL ({m}: {path}).")

    def _get(self, table: dict[str, Any], key: str, kind: str) -> dict[str, Any]:
        if key not in table:
            raise StripeFailure(404, f"No such {kind}: '{key}'", code="resource_missing")
        return table[key]

    def _list(self, items: list[dict[str, Any]], url: str) -> dict[str, Any]:
        return {"object": "list", "data": items, "has_more": False, "url": url}

    def _meter_event(self, p: dict[str, Any]) -> dict[str, Any]:
        for name in ("event_name", "payload"):
            if name not in p:
                raise StripeFailure(
                    400, f"Missing required param: {name}.", code="parameter_missing"
                )
        identifier = p.get("identifier") or self._id("mev")
        if identifier in self.meter_events:
            raise StripeFailure(
                400,
                f"An event already exists with identifier {identifier}.",
                headers={"Stripe-Should-Retry": "false"},
            )
        event = {
            "object": "billing.meter_event",
            "created": int(time.time()),
            "event_name": p["event_name"],
            "identifier": identifier,
            "livemode": False,
            "payload": p["payload"],
            "timestamp": int(p.get("timestamp") or time.time()),
        }
        self.meter_events[identifier] = event
        return event

    def _adjustment(self, p: dict[str, Any]) -> dict[str, Any]:
        identifier = (p.get("cancel") or {}).get("identifier", "")
        if p.get("type") != "cancel" or identifier not in self.meter_events:
            raise StripeFailure(400, f"No meter event with identifier {identifier}.")
        self.cancelled.add(identifier)
        return {
            "object": "billing.meter_event_adjustment",
            "event_name": p.get("event_name"),
            "livemode": False,
            "status": "pending",
            "type": "cancel",
            "cancel": {"identifier": identifier},
        }

    def _meter(self, p: dict[str, Any]) -> dict[str, Any]:
        if any(m["event_name"] == p["event_name"] for m in self.meters.values()):
            raise StripeFailure(400, "An active meter with this event_name already exists.")
        meter = {
            "id": self._id("mtr"),
            "object": "billing.meter",
            "created": int(time.time()),
            "display_name": p["display_name"],
            "event_name": p["event_name"],
            "status": "active",
            "default_aggregation": p.get("default_aggregation", {}),
            "customer_mapping": p.get("customer_mapping", {}),
            "value_settings": p.get("value_settings", {}),
            "livemode": False,
        }
        self.meters[meter["id"]] = meter
        return meter

    def _summaries(self, meter_id: str, p: dict[str, Any]) -> dict[str, Any]:
        meter = self._get(self.meters, meter_id, "meter")
        start, end = int(p["start_time"]), int(p["end_time"])
        if start % 60 or end % 60:
            raise StripeFailure(400, "start_time and end_time must be aligned with minutes.")
        count = sum(
            1
            for e in self.live_events(meter["event_name"])
            if e["payload"].get("stripe_customer_id") == p.get("customer")
            and start <= e["timestamp"] < end
        )
        summary = {
            "id": self._id("mtrusg"),
            "object": "billing.meter_event_summary",
            "aggregated_value": count,
            "start_time": start,
            "end_time": end,
            "livemode": False,
            "meter": meter_id,
        }
        return self._list([summary], f"/v1/billing/meters/{meter_id}/event_summaries")

    def _prices_list(self, p: dict[str, Any]) -> dict[str, Any]:
        keys = p.get("lookup_keys") or []
        prices = [x for x in self.prices.values() if x["active"] and x.get("lookup_key") in keys]
        return self._list(prices, "/v1/prices")

    def _price(self, p: dict[str, Any]) -> dict[str, Any]:
        key = p.get("lookup_key")
        holders = [x for x in self.prices.values() if x.get("lookup_key") == key and key]
        if holders and p.get("transfer_lookup_key") != "true":
            raise StripeFailure(400, f"A price with lookup_key {key} already exists.")
        for old in holders:
            old["lookup_key"] = None
        recurring = p.get("recurring") or {}
        price = {
            "id": self._id("price"),
            "object": "price",
            "active": True,
            "currency": p["currency"],
            "lookup_key": key,
            "product": p["product"],
            "unit_amount": int(p["unit_amount"]),
            "recurring": {
                "interval": recurring.get("interval"),
                "usage_type": recurring.get("usage_type", "licensed"),
                "meter": recurring.get("meter"),
            },
            "type": "recurring",
        }
        self.prices[price["id"]] = price
        return price

    def _balance(self, customer_id: str, p: dict[str, Any]) -> dict[str, Any]:
        customer = self._get(self.customers, customer_id, "customer")
        amount = int(p["amount"])
        customer["balance"] += amount
        transaction = {
            "id": self._id("cbtxn"),
            "object": "customer_balance_transaction",
            "amount": amount,
            "currency": p["currency"],
            "customer": customer_id,
            "description": p.get("description"),
            "type": "adjustment",
            "ending_balance": customer["balance"],
        }
        self.balance_transactions.append(transaction)
        return transaction


def _handler(server: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode() if length else ""
            query = body if method == "POST" else url.query
            seen = Seen(
                method,
                url.path,
                form_decode(parse_qsl(query, keep_blank_values=True)),
                {k.lower(): v for k, v in self.headers.items()},
                time.monotonic(),
            )
            try:
                answer = server.handle(seen)
            except StripeFailure as failure:
                answer = Answer(failure.status, failure.body(), failure.headers)
            delays = server._delays.get(url.path)
            if delays:
                time.sleep(delays.popleft())  # the work is done; the answer is late
            payload = json.dumps(answer.body).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# -- webhooks --------------------------------------------------------------------------


def stripe_event(
    type: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": created if created is not None else int(time.time()),
        "livemode": False,
        "type": type,
        "data": {"object": obj},
    }


def signed(
    event: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> tuple[bytes, str]:
    """The body Stripe would post and its `Stripe-Signature` header."""
    body = json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={ts},v1={mac}"


@pytest.fixture
def stripe_server(settings: Any) -> Iterator[FakeStripe]:
    """The loopback Stripe, with the product's settings pointed at it (billing on)."""
    server = FakeStripe()
    settings.STRIPE_SECRET_KEY = "sk_test_loopback"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_loopback"
    settings.STRIPE_API_BASE = server.api_base
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT = 2.0
    settings.STRIPE_CONNECT_TIMEOUT = 1.0
    yield server
    server.close()
