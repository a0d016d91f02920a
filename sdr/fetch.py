"""The safe fetcher: every outbound HTTP request of the product goes through here.

One `Fetcher` is one research run (enriching one company); it is not shared between
threads. Per request it enforces:

- only http(s), and only pages: HTML, XHTML, plain text and XML (sitemaps);
- the host resolved once and every address checked to be globally routable (no loopback,
  private, link-local, CGNAT, multicast or reserved address, nor one hidden inside an IPv6
  address), unless FETCH_ALLOWED_NETWORKS lets it; the connection then goes to that vetted
  address, with the site's name in the Host header, in SNI and in certificate checks, so a
  second DNS answer cannot swap the target (DNS rebinding);
- robots.txt (fetched once per site through this same path), a politeness delay per host
  and a page cap per registrable domain;
- connect, read and total timeouts, and a byte cap (FETCH_MAX_BYTES): a response that
  declares a larger Content-Length is refused unread (too_large); one that turns out
  larger while streaming is refused too, except an HTML page, which is cut at the cap and
  marked `truncated` (its head, with the title, meta tags and JSON-LD, is what extraction
  needs most, and dynamic pages rarely declare a length);
- redirects followed by hand, every hop checked again as if it were the first.
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urldefrag, urljoin

import httpx
from bs4.dammit import UnicodeDammit
from django.conf import settings
from protego import Protego

from sdr.domains import registrable_domain
from sdr.links import outside_url
from sdr.netguard import IPAddress, embedded_addresses, ip_literal, is_public, system_resolver

logger = logging.getLogger(__name__)

HTML_TYPES = {"text/html", "application/xhtml+xml"}
ACCEPTED_TYPES = HTML_TYPES | {"text/plain", "application/xml", "text/xml"}
REDIRECTS = {301, 302, 303, 307, 308}
# Retry-After beyond this is not worth holding a worker for; the page is skipped instead.
MAX_RETRY_AFTER = 5.0
# Host names as they reach DNS: IDNA already applied by httpx, so ASCII only.
HOSTNAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")

Resolver = Callable[[str, int], list[str]]


class FetchErrorReason(StrEnum):
    BAD_URL = "bad_url"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    BLOCKED_ADDRESS = "blocked_address"
    ROBOTS_DISALLOWED = "robots_disallowed"
    PAGE_CAP_REACHED = "page_cap_reached"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    REDIRECT_LOOP = "redirect_loop"
    HTTP_ERROR = "http_error"
    CONNECTION_ERROR = "connection_error"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"


class FetchError(Exception):
    """Why a URL was not fetched. `status` is the HTTP status when the server answered."""

    def __init__(
        self, reason: FetchErrorReason, url: str, message: str, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return f"{self.args[0]} ({self.reason})"


@dataclass(frozen=True)
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int  # 200, or 304 when not_modified
    content_type: str  # without parameters, e.g. "text/html"
    encoding: str | None  # the charset of the Content-Type header, if any
    content: bytes  # b"" when not_modified
    etag: str
    last_modified: str
    not_modified: bool
    redirects: tuple[str, ...]  # every hop followed, in order
    truncated: bool = False  # an HTML page cut at the byte cap


@dataclass(frozen=True)
class _Target:
    """One URL, parsed and vetted: where to connect and what to say the site is called."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), no trailing dot
    port: int
    host_header: str
    path: str  # path and query, percent-encoded
    address: str  # the vetted IP the connection goes to ("" until vetted)

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def connect_url(self) -> httpx.URL:
        path = self.path.encode("ascii")
        return httpx.URL(scheme=self.scheme, host=self.address, port=self.port, raw_path=path)

    def robots(self) -> _Target:
        url = f"{self.scheme}://{self.host_header}/robots.txt"
        return replace(self, url=url, path="/robots.txt")


class Fetcher:
    def __init__(
        self,
        *,
        max_pages_per_domain: int | None = None,
        politeness_delay: float | None = None,
        max_bytes: int | None = None,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_pages = max_pages_per_domain or settings.FETCH_MAX_PAGES_PER_DOMAIN
        self.delay = (
            settings.FETCH_POLITENESS_DELAY if politeness_delay is None else politeness_delay
        )
        self.max_bytes = max_bytes or settings.FETCH_MAX_BYTES
        self.max_redirects = settings.FETCH_MAX_REDIRECTS
        self.total_timeout = settings.FETCH_TOTAL_TIMEOUT
        self.user_agent = settings.FETCH_USER_AGENT
        # robots.txt groups are matched on the product token: the whole header would also
        # match a group named after any word of its comment ("research", "B2B").
        self.robots_token = self.user_agent.split("/", 1)[0].split(" ", 1)[0]
        self.resolver = resolver or system_resolver
        self.allowed_networks = [
            ipaddress.ip_network(network, strict=False)
            for network in settings.FETCH_ALLOWED_NETWORKS
        ]
        self.sleep, self.clock = sleep, clock
        self._pages: Counter[str] = Counter()
        self._robots: dict[str, Protego | FetchError | None] = {}
        self._last_request: dict[str, float] = {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(
                settings.FETCH_READ_TIMEOUT, connect=settings.FETCH_CONNECT_TIMEOUT
            ),
            # The pool keys connections by the IP we dial, so two sites on one address (shared
            # hosting, a CDN) would share a TLS connection set up and verified for the other's
            # name. A fresh connection per request also gives the deadline its socket.
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=ssl_context or True,
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address checks
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
        """The page at url, or FetchError saying why not. Pass the validators of the copy
        you hold to get `not_modified=True` (and no body) when it is still current."""
        return self._follow(url, etag=etag, last_modified=last_modified)

    def _follow(
        self, url: str, *, etag: str = "", last_modified: str = "", robots: _Target | None = None
    ) -> FetchResult:
        """Fetch url, following redirects. For robots.txt, `robots` is the site's target,
        already vetted, and hops are exempt from the robots and page-cap checks."""
        hops: list[str] = []
        seen = {urldefrag(url).url}
        current, target = url, robots
        for _ in range(self.max_redirects + 1):
            target = target or self._vet(current)
            if robots is None:
                self._admit(target)
            outcome = self._fetch(
                target, etag=etag, last_modified=last_modified, page=robots is None
            )
            if isinstance(outcome, FetchResult):
                return replace(outcome, url=url, final_url=current, redirects=tuple(hops))
            current, target = urljoin(current, outcome), None
            if urldefrag(current).url in seen:
                raise FetchError(
                    FetchErrorReason.REDIRECT_LOOP, url, f"Redirect loop: back to {current}"
                )
            seen.add(urldefrag(current).url)
            hops.append(current)
        raise FetchError(
            FetchErrorReason.TOO_MANY_REDIRECTS, url, f"More than {self.max_redirects} redirects"
        )

    # --- checks, before any connection ------------------------------------------------

    def _vet(self, url: str) -> _Target:
        target = _parse(url)
        addresses = self._addresses(url, target.host, target.port)
        for address in addresses:
            self._check_address(url, target.host, address)
        return replace(target, address=str(addresses[0]))

    def _addresses(self, url: str, host: str, port: int) -> list[IPAddress]:
        literal = ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            resolved = self.resolver(host, port)
        except (OSError, UnicodeError) as error:
            raise FetchError(
                FetchErrorReason.CONNECTION_ERROR, url, f"Cannot resolve {host}: {error}"
            ) from None
        if not resolved:
            raise FetchError(FetchErrorReason.CONNECTION_ERROR, url, f"{host} has no address")
        return [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]

    def _check_address(self, url: str, host: str, address: IPAddress) -> None:
        for candidate in embedded_addresses(address):
            if any(candidate in network for network in self.allowed_networks):
                continue
            if not is_public(candidate):
                raise FetchError(
                    FetchErrorReason.BLOCKED_ADDRESS,
                    url,
                    f"{host} resolves to {candidate}, which is not a public address",
                )

    def _admit(self, target: _Target) -> None:
        """Page cap, then robots.txt (so a capped domain costs no robots request)."""
        domain = registrable_domain(target.host) or target.host
        if self._pages[domain] >= self.max_pages:
            raise FetchError(
                FetchErrorReason.PAGE_CAP_REACHED,
                target.url,
                f"Already read {self.max_pages} pages of {domain} in this run",
            )
        self._check_robots(target)
        self._pages[domain] += 1

    def _check_robots(self, target: _Target) -> None:
        if target.origin not in self._robots:
            self._robots[target.origin] = self._load_robots(target)
        rules = self._robots[target.origin]
        if isinstance(rules, FetchError):
            message = f"{target.host} is unreachable: {rules.args[0]}"
            raise FetchError(rules.reason, target.url, message)
        if rules is not None and not rules.can_fetch(
            f"{target.scheme}://{target.host_header}{target.path}", self.robots_token
        ):
            raise FetchError(
                FetchErrorReason.ROBOTS_DISALLOWED,
                target.url,
                f"robots.txt of {target.host} disallows {target.url}",
            )

    def _load_robots(self, target: _Target) -> Protego | FetchError | None:
        """The site's rules; None allows everything; a FetchError means the site is down.

        Google's documented handling (developers.google.com/search/docs/crawling-indexing/
        robots/robots_txt): a 4xx other than 429 means there are no rules; a 429 or 5xx means
        crawl nothing; redirects are followed. Google also treats an unreachable robots.txt
        as "crawl nothing"; we fetch nothing too but report the real reason (timeout,
        connection error), which tells a person more than "disallowed" would. Anything else
        that keeps us from the rules (over the byte cap, redirected somewhere refused) also
        means crawl nothing.
        """
        robots = target.robots()
        try:
            result = self._follow(robots.url, robots=robots)
        except FetchError as error:
            if error.reason in (FetchErrorReason.CONNECTION_ERROR, FetchErrorReason.TIMEOUT):
                return error
            if error.status is not None and 400 <= error.status < 500 and error.status != 429:
                return None
            return Protego.parse("User-agent: *\nDisallow: /")
        return Protego.parse(result.content.decode("utf-8", errors="replace"))

    # --- the request --------------------------------------------------------------------

    def _fetch(
        self, target: _Target, *, etag: str, last_modified: str, page: bool
    ) -> FetchResult | str:
        """A FetchResult, or the Location of a redirect. One retry, for transient failures."""
        for attempt in (1, 2):
            self._wait_politely(target.host)
            try:
                return self._request(target, etag=etag, last_modified=last_modified, page=page)
            except _Retryable as retry:
                if attempt == 2:
                    raise retry.error from None
                if retry.after:
                    self.sleep(retry.after)
        raise AssertionError("unreachable")

    def _wait_politely(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            wait = self.delay - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_request[host] = self.clock()

    def _request(
        self, target: _Target, *, etag: str, last_modified: str, page: bool
    ) -> FetchResult | str:
        headers = {
            "Host": target.host_header,
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8",
            # Not br or zstd: a tiny response of theirs can expand to gigabytes in one chunk,
            # before the byte cap sees it. gzip and deflate top out near 1000:1, so one 64 KiB
            # read grows to 64 MiB at worst before the cap stops it.
            "Accept-Encoding": "gzip, deflate",
        }
        # Validators come back from storage; one a server sent with odd bytes would make
        # httpx refuse the whole request, so such a value is left out instead.
        if _header_safe(etag):
            headers["If-None-Match"] = etag
        if _header_safe(last_modified):
            headers["If-Modified-Since"] = last_modified
        deadline = _Deadline(self.total_timeout)
        extensions: dict[str, Any] = {"trace": deadline.trace}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host  # also the name the certificate must match
        try:
            with (
                deadline,
                self._client.stream(
                    "GET", target.connect_url(), headers=headers, extensions=extensions
                ) as response,
            ):
                logger.debug("fetch %s -> %s", target.url, response.status_code)
                outcome = self._read(target, response, etag, last_modified, page=page)
        except httpx.ConnectTimeout:
            error = FetchError(FetchErrorReason.TIMEOUT, target.url, "Timed out connecting")
            raise _Retryable(error, 0.0) from None
        except (httpx.TransportError, httpx.DecodingError) as error:
            raise _transport_error(target, error, deadline) from None
        if deadline.expired:  # a body without a length, cut by the deadline, looks complete
            raise deadline.error(target)
        return outcome

    def _read(
        self,
        target: _Target,
        response: httpx.Response,
        etag: str,
        last_modified: str,
        *,
        page: bool,
    ) -> FetchResult | str:
        status = response.status_code
        if status in REDIRECTS and response.headers.get("location"):
            return response.headers["location"]
        if status == 304:
            return _result(target, response, b"", etag=etag, last_modified=last_modified)
        if status >= 300:
            _raise_for_status(target, response)
        content_type = _media_type(response)
        # robots.txt is read whatever its label: servers often send it as text/html.
        if page and content_type not in ACCEPTED_TYPES:
            raise FetchError(
                FetchErrorReason.UNSUPPORTED_CONTENT_TYPE,
                target.url,
                f"{content_type or 'An unlabelled response'} is not a page we read",
            )
        body, truncated = self._body(target, response, may_cut=content_type in HTML_TYPES)
        return _result(target, response, body, truncated=truncated)

    def _body(
        self, target: _Target, response: httpx.Response, *, may_cut: bool
    ) -> tuple[bytes, bool]:
        cap = self.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            message = f"The page declares {int(declared):,} bytes, over the cap of {cap:,}"
            raise FetchError(FetchErrorReason.TOO_LARGE, target.url, message)
        chunks, size = [], 0
        for chunk in response.iter_bytes():  # decompressed: the cap holds for gzip bombs too
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                if may_cut:
                    return b"".join(chunks)[:cap], True
                message = f"The response is longer than the cap of {cap:,} bytes"
                raise FetchError(FetchErrorReason.TOO_LARGE, target.url, message)
        return b"".join(chunks), False


class _Retryable(Exception):
    def __init__(self, error: FetchError, after: float) -> None:
        self.error, self.after = error, after


class _Deadline:
    """A hard limit on one request's wall time.

    httpx times each connect and each read on its own, so a server that sends a byte just
    inside the read timeout could hold a worker for hours. When the limit passes, a timer
    thread shuts the connection's socket down, which wakes the blocked read at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        # httpcore reports each new connection; TLS then wraps the socket in a new object.
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._socket = info["return_value"].get_extra_info("socket")
                if self.expired:
                    self._shutdown()

    def error(self, target: _Target) -> FetchError:
        message = f"Took longer than {self.seconds:g}s in all"
        return FetchError(FetchErrorReason.TIMEOUT, target.url, message)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shutdown()

    def _shutdown(self) -> None:
        if self._socket is None:
            return
        # socket.socket's own shutdown, not SSLSocket's: that one also drops the TLS state,
        # racing with the read in progress on the other thread. A socket already closed
        # raises OSError, and then there is nothing left to stop.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._socket, socket.SHUT_RDWR)


def fetch(url: str, *, etag: str = "", last_modified: str = "", **options: Any) -> FetchResult:
    """One request with a fresh Fetcher (options are Fetcher's): its own robots.txt, caps."""
    with Fetcher(**options) as fetcher:
        return fetcher.get(url, etag=etag, last_modified=last_modified)


def decode_html(result: FetchResult) -> str:
    """Text of a page, in the browsers' order: a byte-order mark, the header charset, the
    page's own declaration (meta charset), then detection."""
    known = [result.encoding] if result.encoding else []
    dammit = UnicodeDammit(result.content, user_encodings=known, is_html=True)
    # original_encoding is a codec UnicodeDammit decoded with, so lookup() knows it.
    if dammit.original_encoding and codecs.lookup(dammit.original_encoding).name == "iso8859-1":
        # Browsers read pages labelled Latin-1 as windows-1252 (WHATWG Encoding standard),
        # and such pages rely on it for their curly quotes and dashes.
        return result.content.decode("windows-1252", errors="replace")
    return dammit.unicode_markup or ""


# --- helpers ---------------------------------------------------------------------------


def _parse(url: str) -> _Target:
    """The URL's parts, not yet resolved (no address); or FetchError."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise FetchError(FetchErrorReason.BAD_URL, url, f"Malformed URL: {error}") from None
    if not parsed.scheme:
        raise FetchError(FetchErrorReason.BAD_URL, url, f"Not an absolute URL: {url!r}")
    if parsed.scheme not in {"http", "https"}:
        raise FetchError(
            FetchErrorReason.UNSUPPORTED_SCHEME,
            url,
            f"Only http and https are fetched, not {parsed.scheme!r}",
        )
    # Every URL followed (a page's, a link's, a redirect's) passes the one outside-URL check.
    if not outside_url(url):
        raise FetchError(FetchErrorReason.BAD_URL, url, f"Not a valid web address: {url[:200]!r}")
    host = parsed.raw_host.decode("ascii").rstrip(".")
    if not (host and (ip_literal(host) or HOSTNAME.fullmatch(host))):
        raise FetchError(FetchErrorReason.BAD_URL, url, f"Not a valid host name in {url!r}")
    port = parsed.port if parsed.port is not None else 443 if parsed.scheme == "https" else 80
    if not 0 < port < 65536:
        raise FetchError(FetchErrorReason.BAD_URL, url, f"Port {port} is out of range")
    return _Target(
        url=url,
        scheme=parsed.scheme,
        host=host,
        port=port,
        host_header=parsed.netloc.decode("ascii"),
        path=parsed.raw_path.decode("ascii"),
        address="",
    )


def _raise_for_status(target: _Target, response: httpx.Response) -> None:
    status = response.status_code
    error = FetchError(
        FetchErrorReason.HTTP_ERROR, target.url, f"The server answered {status}", status=status
    )
    if status in (429, 503):
        after = _retry_after(response.headers.get("retry-after"))
        if after is not None and after <= MAX_RETRY_AFTER:
            raise _Retryable(error, after)
    raise error


def _transport_error(target: _Target, error: httpx.HTTPError, deadline: _Deadline) -> FetchError:
    if deadline.expired:
        return deadline.error(target)
    if isinstance(error, httpx.TimeoutException):
        return FetchError(FetchErrorReason.TIMEOUT, target.url, "Timed out waiting for the server")
    # httpx's message names the failure (refused, reset, certificate); it never holds a body.
    message = f"Connection failed: {str(error) or type(error).__name__}"
    return FetchError(FetchErrorReason.CONNECTION_ERROR, target.url, message)


def _result(
    target: _Target,
    response: httpx.Response,
    body: bytes,
    *,
    etag: str = "",
    last_modified: str = "",
    truncated: bool = False,
) -> FetchResult:
    """The response as a FetchResult. On a 304 the caller's validators stand in for those
    the server left out, so storing the result's never forgets them."""
    return FetchResult(
        url=target.url,
        final_url=target.url,
        status=response.status_code,
        content_type=_media_type(response),
        encoding=response.charset_encoding,
        content=body,
        etag=response.headers.get("etag", etag),
        last_modified=response.headers.get("last-modified", last_modified),
        not_modified=response.status_code == 304,
        redirects=(),
        truncated=truncated,
    )


def _header_safe(value: str) -> bool:
    return bool(value) and value.isascii() and value.isprintable()


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
