"""The safe fetcher: every outbound HTTP request of the product goes through here.

One `Fetcher` is one research run (enriching one company). It enforces, per request:
only http(s); the host resolved once and every address checked to be globally routable
(no loopback, private, link-local, CGNAT, multicast or reserved address, unless
FETCH_ALLOWED_NETWORKS lets it), and the connection made to that vetted address so a
second DNS answer cannot swap it (DNS rebinding); robots.txt; a politeness delay per
host; a page cap per registrable domain; timeouts and a byte cap; redirects followed by
hand, each hop checked again.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import cache
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from bs4.dammit import UnicodeDammit
from django.conf import settings
from protego import Protego

from sdr.domains import registrable_domain

logger = logging.getLogger(__name__)

ACCEPTED_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "text/plain",
    "application/xml",
    "text/xml",
}
REDIRECTS = {301, 302, 303, 307, 308}
# Retry-After beyond this is not worth holding a worker for; the page is skipped instead.
MAX_RETRY_AFTER = 5.0
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
    url: str
    final_url: str
    status: int
    content_type: str
    encoding: str | None
    content: bytes
    etag: str
    last_modified: str
    not_modified: bool
    redirects: tuple[str, ...]
    truncated: bool = False


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    address: str  # the vetted IP the connection goes to

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@cache
def _allowed_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(n, strict=False) for n in spec)


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class Fetcher:
    def __init__(
        self,
        *,
        max_pages_per_domain: int | None = None,
        politeness_delay: float | None = None,
        max_bytes: int | None = None,
        resolver: Resolver | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_pages = max_pages_per_domain or settings.FETCH_MAX_PAGES_PER_DOMAIN
        self.delay = (
            settings.FETCH_POLITENESS_DELAY if politeness_delay is None else politeness_delay
        )
        self.max_bytes = max_bytes or settings.FETCH_MAX_BYTES
        self.resolver = resolver or _system_resolver
        self.sleep, self.clock = sleep, clock
        self.user_agent = settings.FETCH_USER_AGENT
        self._pages: Counter[str] = Counter()
        self._robots: dict[str, Protego | None] = {}
        self._last_request: dict[str, float] = {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(
                settings.FETCH_READ_TIMEOUT, connect=settings.FETCH_CONNECT_TIMEOUT
            ),
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
        hops: list[str] = []
        seen = {url}
        current = url
        for _ in range(settings.FETCH_MAX_REDIRECTS + 1):
            target = self._vet(current)
            self._check_robots(target)
            self._count_page(target)
            result = self._fetch(target, etag=etag, last_modified=last_modified)
            if isinstance(result, FetchResult):
                return _with_origin(result, url, hops)
            location = urljoin(current, result)
            if location in seen:
                raise FetchError(
                    FetchErrorReason.REDIRECT_LOOP, url, f"Redirect loop at {location}"
                )
            seen.add(location)
            hops.append(location)
            current = location
        raise FetchError(
            FetchErrorReason.TOO_MANY_REDIRECTS,
            url,
            f"More than {settings.FETCH_MAX_REDIRECTS} redirects",
        )

    # --- checks ---------------------------------------------------------------------

    def _vet(self, url: str) -> _Target:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise FetchError(FetchErrorReason.BAD_URL, url, f"Malformed URL: {error}") from None
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"}:
            raise FetchError(
                FetchErrorReason.UNSUPPORTED_SCHEME,
                url,
                f"Only http and https are fetched, not {scheme or 'no scheme'!r}",
            )
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise FetchError(FetchErrorReason.BAD_URL, url, "The URL has no host")
        port = port or (443 if scheme == "https" else 80)
        addresses = self._addresses(url, host, port)
        for address in addresses:
            self._check_address(url, host, address)
        return _Target(url=url, scheme=scheme, host=host, port=port, address=str(addresses[0]))

    def _addresses(self, url: str, host: str, port: int) -> list:
        literal = _ip_literal(host)
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

    def _check_address(self, url: str, host: str, address) -> None:
        allowed = _allowed_networks(tuple(settings.FETCH_ALLOWED_NETWORKS))
        for candidate in _embedded_addresses(address):
            if any(candidate in network for network in allowed):
                continue
            if not _is_public(candidate):
                raise FetchError(
                    FetchErrorReason.BLOCKED_ADDRESS,
                    url,
                    f"{host} resolves to {candidate}, which is not a public address",
                )

    def _check_robots(self, target: _Target) -> None:
        if target.origin not in self._robots:
            self._robots[target.origin] = self._load_robots(target)
        rules = self._robots[target.origin]
        if rules is not None and not rules.can_fetch(target.url, self.user_agent):
            raise FetchError(
                FetchErrorReason.ROBOTS_DISALLOWED,
                target.url,
                f"robots.txt of {target.host} disallows {target.url}",
            )

    def _load_robots(self, target: _Target) -> Protego | None:
        """None means allow all. Google's convention: 4xx allows all, 5xx disallows all."""
        robots_url = urlunsplit((target.scheme, urlsplit(target.url).netloc, "/robots.txt", "", ""))
        robots = _Target(robots_url, target.scheme, target.host, target.port, target.address)
        try:
            result = self._fetch(robots, etag="", last_modified="")
        except FetchError as error:
            if error.status is not None and 400 <= error.status < 500:
                return None
            return Protego.parse("User-agent: *\nDisallow: /")
        if not isinstance(result, FetchResult):
            return None  # a redirected robots.txt: treat as absent rather than follow it
        return Protego.parse(result.content.decode("utf-8", errors="replace"))

    def _count_page(self, target: _Target) -> None:
        domain = registrable_domain(target.host) or target.host
        if self._pages[domain] >= self.max_pages:
            raise FetchError(
                FetchErrorReason.PAGE_CAP_REACHED,
                target.url,
                f"Read {self.max_pages} pages of {domain} already",
            )
        self._pages[domain] += 1

    # --- the request ----------------------------------------------------------------

    def _fetch(self, target: _Target, *, etag: str, last_modified: str) -> FetchResult | str:
        """A FetchResult, or the Location of a redirect."""
        for attempt in (1, 2):
            self._wait_politely(target.host)
            try:
                return self._request(target, etag=etag, last_modified=last_modified)
            except _Retryable as retry:
                if attempt == 2:
                    raise retry.error from None
                self.sleep(retry.after)
        raise AssertionError("unreachable")

    def _wait_politely(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            wait = self.delay - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_request[host] = self.clock()

    def _request(self, target: _Target, *, etag: str, last_modified: str) -> FetchResult | str:
        address = f"[{target.address}]" if ":" in target.address else target.address
        parts = urlsplit(target.url)
        connect_url = urlunsplit(
            (target.scheme, f"{address}:{target.port}", parts.path or "/", parts.query, "")
        )
        headers = {
            "Host": parts.netloc.rsplit("@", 1)[-1],
            "User-Agent": self.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,text/plain;q=0.8",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        started = self.clock()
        try:
            with self._client.stream(
                "GET", connect_url, headers=headers, extensions=extensions
            ) as response:
                logger.debug("fetch %s -> %s", target.url, response.status_code)
                return self._read(target, response, started)
        except httpx.TimeoutException:
            error = FetchError(FetchErrorReason.TIMEOUT, target.url, "Timed out")
            raise _Retryable(error, 0.0) from None
        except httpx.TransportError as error:
            raise FetchError(
                FetchErrorReason.CONNECTION_ERROR,
                target.url,
                f"Connection failed: {type(error).__name__}",
            ) from None

    def _read(self, target: _Target, response: httpx.Response, started: float):
        status = response.status_code
        if status in REDIRECTS and response.headers.get("location"):
            return response.headers["location"]
        if status == 304:
            return _result(target, response, b"", not_modified=True)
        if status in (429, 503):
            after = _retry_after(response.headers.get("retry-after"))
            error = FetchError(
                FetchErrorReason.HTTP_ERROR,
                target.url,
                f"The server answered {status}",
                status=status,
            )
            if after is not None and after <= MAX_RETRY_AFTER:
                raise _Retryable(error, after)
            raise error
        if status >= 400:
            raise FetchError(
                FetchErrorReason.HTTP_ERROR,
                target.url,
                f"The server answered {status}",
                status=status,
            )
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in ACCEPTED_TYPES:
            raise FetchError(
                FetchErrorReason.UNSUPPORTED_CONTENT_TYPE,
                target.url,
                f"{content_type} is not a page we read",
            )
        body, truncated = self._body(target, response, started)
        return _result(target, response, body, truncated=truncated)

    def _body(self, target: _Target, response: httpx.Response, started: float):
        # Past the cap we keep the beginning: the head of a huge page (title, meta,
        # JSON-LD) is what extraction needs most.
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            if self.clock() - started > settings.FETCH_TOTAL_TIMEOUT:
                raise FetchError(
                    FetchErrorReason.TIMEOUT,
                    target.url,
                    f"Took longer than {settings.FETCH_TOTAL_TIMEOUT}s in all",
                )
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.max_bytes:
                return b"".join(chunks)[: self.max_bytes], True
        return b"".join(chunks), False


class _Retryable(Exception):
    def __init__(self, error: FetchError, after: float) -> None:
        self.error, self.after = error, after


def _result(
    target: _Target,
    response: httpx.Response,
    body: bytes,
    *,
    not_modified: bool = False,
    truncated: bool = False,
) -> FetchResult:
    content_type = response.headers.get("content-type", "")
    return FetchResult(
        url=target.url,
        final_url=target.url,
        status=response.status_code,
        content_type=content_type.split(";")[0].strip().lower(),
        encoding=_charset(content_type),
        content=body,
        etag=response.headers.get("etag", ""),
        last_modified=response.headers.get("last-modified", ""),
        not_modified=not_modified,
        redirects=(),
        truncated=truncated,
    )


def _with_origin(result: FetchResult, url: str, hops: list[str]) -> FetchResult:
    from dataclasses import replace

    return replace(result, url=url, final_url=hops[-1] if hops else url, redirects=tuple(hops))


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _ip_literal(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        # inet_aton accepts the legacy forms browsers do ("0x7f.1", "2130706433", "127.1"),
        # which an attacker uses to slip 127.0.0.1 past a naive check.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def _embedded_addresses(address) -> list:
    """The address itself plus any IPv4 address carried inside an IPv6 one."""
    found = [address]
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (
            address.ipv4_mapped,
            address.sixtofour,
            address.teredo[1] if address.teredo else None,
        ):
            if inner is not None:
                found.append(inner)
        if address.packed[:12] == bytes(12) and int(address) > 1:  # IPv4-compatible ::a.b.c.d
            found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def _is_public(address) -> bool:
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def decode_html(result: FetchResult) -> str:
    """Text of a page: the header charset, then the page's own declaration, then detection."""
    known = [result.encoding] if result.encoding else []
    dammit = UnicodeDammit(result.content, known_definite_encodings=known, is_html=True)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return result.content.decode("utf-8", errors="replace")
