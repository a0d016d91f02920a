"""The safe fetcher: every outbound request is bounded, polite and kept off private networks.

The servers here listen on 127.0.0.1, which these tests allow. The `network` fixture
watches every connection the fetcher dials: loopback goes through, any other address is
refused on the spot, unopened, so a test can show where the fetcher would have connected
(or that it never tried). No DNS query leaves the machine either.
"""

from __future__ import annotations

import gzip
import ipaddress
import logging
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sdr.fetch import Fetcher, FetchError, FetchResult, decode_html, fetch
from tests.httpserver import LoopbackServer, Route, Seen, issue_certificates

PAGE = "<html><head><title>Acme</title></head><body>Hello</body></html>"
ROOT = Path(__file__).resolve().parents[2]


class Network:
    def __init__(self) -> None:
        self.dialled: list[str] = []  # every address a connection was attempted to
        self.failures: list[OSError] = []  # raised by the next dials, in order


@pytest.fixture(autouse=True)
def network(monkeypatch) -> Network:
    network = Network()
    connect, resolve = socket.create_connection, socket.getaddrinfo

    def create_connection(address, *args, **kwargs):
        network.dialled.append(address[0])
        if network.failures:
            raise network.failures.pop(0)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: never dial {address[0]}")
        return connect(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        if host != "localhost" and not _is_ip(host):
            raise socket.gaierror(f"test guard: no DNS lookups ({host})")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return network


@pytest.fixture(autouse=True)
def _fast_and_loopback_only(settings):
    settings.FETCH_POLITENESS_DELAY = 0
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def to_loopback(calls: list[str] | None = None):
    """A resolver that answers 127.0.0.1 for every name (and notes the names asked)."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return ["127.0.0.1"]

    return resolve


def refusal(call) -> FetchError:
    with pytest.raises(FetchError) as error:
        call()
    return error.value


def fake_time():
    """A clock that moves only when slept on, and the list of sleeps asked for."""
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    return (lambda: now[0]), sleep, slept


# --- a plain fetch ---------------------------------------------------------------------


def test_a_page_is_fetched_with_an_honest_user_agent(http_server, settings):
    http_server.route(
        "/", PAGE, headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
    )
    result = Fetcher().get(http_server.url("/"))
    assert result == FetchResult(
        url=http_server.url("/"),
        final_url=http_server.url("/"),
        status=200,
        content_type="text/html",
        encoding="utf-8",
        content=PAGE.encode(),
        etag='"v1"',
        last_modified="Mon, 02 Nov 2026 10:00:00 GMT",
        not_modified=False,
        redirects=(),
        truncated=False,
    )
    seen = http_server.requests[-1]
    assert seen.headers["user-agent"] == settings.FETCH_USER_AGENT
    assert seen.headers["host"] == f"127.0.0.1:{http_server.port}"


def test_the_user_agent_names_the_bot_and_where_to_read_about_it(settings):
    product, _, comment = settings.FETCH_USER_AGENT.partition(" ")
    assert product.startswith("SDRResearchBot/")
    assert "+https://" in comment


def test_fetch_is_one_request_with_a_fresh_fetcher(http_server):
    http_server.route("/", PAGE)
    assert fetch(http_server.url("/"), etag='"v1"').content == PAGE.encode()
    assert http_server.requests[-1].headers["if-none-match"] == '"v1"'


def test_fetches_are_logged_with_url_and_status_never_the_body(http_server, caplog):
    http_server.route("/", "<p>private-looking body text</p>")
    with caplog.at_level(logging.DEBUG, logger="sdr.fetch"):
        Fetcher().get(http_server.url("/"))
    logged = [r.getMessage() for r in caplog.records if r.name == "sdr.fetch"]
    assert f"fetch {http_server.url('/')} -> 200" in logged
    assert not any("private-looking" in message for message in logged)


# --- conditional requests --------------------------------------------------------------


def test_a_page_that_has_not_changed_comes_back_not_modified(http_server):
    http_server.route("/", b"", status=304, headers={"ETag": '"v1"'})
    result = Fetcher().get(
        http_server.url("/"), etag='"v1"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT"
    )
    assert result.not_modified and result.status == 304 and result.content == b""
    sent = http_server.requests[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Nov 2026 10:00:00 GMT"


def test_not_modified_keeps_the_validators_the_server_left_out(http_server):
    http_server.route("/", b"", status=304)
    result = Fetcher().get(http_server.url("/"), etag='"v1"', last_modified="Mon, 02 Nov 2026")
    assert (result.etag, result.last_modified) == ('"v1"', "Mon, 02 Nov 2026")


def test_a_first_visit_asks_unconditionally(http_server):
    http_server.route("/", PAGE)
    Fetcher().get(http_server.url("/"))
    assert {"if-none-match", "if-modified-since"}.isdisjoint(http_server.requests[-1].headers)


def test_a_stored_validator_with_odd_characters_is_left_out_not_fatal(http_server):
    http_server.route("/", PAGE)
    assert Fetcher().get(http_server.url("/"), etag='"caf\u00e9"\r\n').status == 200
    assert "if-none-match" not in http_server.requests[-1].headers


# --- robots.txt ------------------------------------------------------------------------


def test_robots_txt_disallow_is_honored(http_server):
    http_server.route("/robots.txt", "User-agent: *\nDisallow: /private", content_type="text/plain")
    http_server.route("/private/team", PAGE)
    error = refusal(lambda: Fetcher().get(http_server.url("/private/team")))
    assert error.reason == "robots_disallowed"
    assert "robots.txt" in str(error)
    assert "/private/team" not in http_server.paths()


def test_robots_groups_for_our_bot_by_name_apply(http_server):
    http_server.route(
        "/robots.txt",
        "User-agent: *\nAllow: /\n\nUser-agent: sdrresearchbot\nDisallow: /team\n",
        content_type="text/plain",
    )
    http_server.route("/about", PAGE)
    fetcher = Fetcher()
    assert fetcher.get(http_server.url("/about")).status == 200
    assert refusal(lambda: fetcher.get(http_server.url("/team"))).reason == "robots_disallowed"


def test_a_robots_group_named_after_a_word_of_our_comment_is_not_ours(http_server, settings):
    settings.FETCH_USER_AGENT = "SDRResearchBot/1.0 (+https://sdr.example/bot; research)"
    http_server.route(
        "/robots.txt", "User-agent: research\nDisallow: /\n", content_type="text/plain"
    )
    http_server.route("/about", PAGE)
    assert Fetcher().get(http_server.url("/about")).status == 200


def test_a_missing_robots_txt_allows_everything(http_server):
    http_server.route("/", PAGE)
    assert Fetcher().get(http_server.url("/")).status == 200
    assert http_server.paths() == ["/robots.txt", "/"]


@pytest.mark.parametrize("status", [401, 403, 410])
def test_a_robots_txt_refused_with_a_client_error_allows_everything(http_server, status):
    http_server.route("/robots.txt", "no", status=status, content_type="text/plain")
    http_server.route("/", PAGE)
    assert Fetcher().get(http_server.url("/")).status == 200


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_robots_txt_failing_with_a_server_error_or_429_means_stay_out(http_server, status):
    http_server.route("/robots.txt", "oops", status=status, content_type="text/plain")
    http_server.route("/", PAGE)
    assert refusal(lambda: Fetcher().get(http_server.url("/"))).reason == "robots_disallowed"
    assert "/" not in http_server.paths()


def test_an_unreachable_robots_txt_stops_the_site_with_the_real_reason(http_server, settings):
    settings.FETCH_READ_TIMEOUT = 0.2
    http_server.route("/robots.txt", "User-agent: *\nAllow: /", delay=1, content_type="text/plain")
    http_server.route("/a", PAGE)
    fetcher = Fetcher()
    error = refusal(lambda: fetcher.get(http_server.url("/a")))
    assert error.reason == "timeout" and "unreachable" in str(error)
    assert refusal(lambda: fetcher.get(http_server.url("/a"))).reason == "timeout"
    assert http_server.paths() == ["/robots.txt"]  # asked once, the page never


def test_robots_txt_is_read_once_per_site(http_server):
    http_server.route("/a", PAGE)
    http_server.route("/b", PAGE)
    fetcher = Fetcher()
    fetcher.get(http_server.url("/a"))
    fetcher.get(http_server.url("/b"))
    assert http_server.paths().count("/robots.txt") == 1


def test_a_redirected_robots_txt_is_followed(http_server):
    http_server.route("/robots.txt", status=301, headers={"Location": "/robots-real.txt"})
    http_server.route(
        "/robots-real.txt", "User-agent: *\nDisallow: /private", content_type="text/plain"
    )
    error = refusal(lambda: Fetcher().get(http_server.url("/private/x")))
    assert error.reason == "robots_disallowed"


def test_a_robots_txt_redirecting_to_a_private_address_means_stay_out(http_server, network):
    http_server.route("/robots.txt", status=302, headers={"Location": "http://10.0.0.5/r.txt"})
    http_server.route("/", PAGE)
    assert refusal(lambda: Fetcher().get(http_server.url("/"))).reason == "robots_disallowed"
    assert network.dialled == ["127.0.0.1"]


def test_robots_txt_is_read_whatever_its_content_type(http_server):
    http_server.route("/robots.txt", "User-agent: *\nDisallow: /", content_type="text/html")
    http_server.route("/", PAGE)
    assert refusal(lambda: Fetcher().get(http_server.url("/"))).reason == "robots_disallowed"


# --- redirects -------------------------------------------------------------------------


def test_redirects_are_followed_and_reported(http_server):
    http_server.route("/old", status=301, headers={"Location": "/mid"})
    http_server.route("/mid", status=302, headers={"Location": http_server.url("/new")})
    http_server.route("/new", PAGE)
    result = Fetcher().get(http_server.url("/old"))
    assert result.url == http_server.url("/old")
    assert result.final_url == http_server.url("/new")
    assert result.redirects == (http_server.url("/mid"), http_server.url("/new"))
    assert result.content == PAGE.encode()


@pytest.mark.parametrize(
    "routes",
    [{"/a": "/b", "/b": "/a"}, {"/a": "/a#top"}],
    ids=["two pages", "back to itself"],
)
def test_a_redirect_loop_is_stopped(http_server, routes):
    for path, location in routes.items():
        http_server.route(path, status=302, headers={"Location": location})
    error = refusal(lambda: Fetcher().get(http_server.url("/a")))
    assert error.reason == "redirect_loop"


def test_too_many_redirects_are_stopped(http_server, settings):
    settings.FETCH_MAX_REDIRECTS = 2
    for i in range(5):
        http_server.route(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    error = refusal(lambda: Fetcher().get(http_server.url("/r0")))
    assert error.reason == "too_many_redirects"
    assert http_server.paths() == ["/robots.txt", "/r0", "/r1", "/r2"]


def test_each_redirect_hop_is_checked_against_robots_txt(http_server):
    http_server.route("/robots.txt", "User-agent: *\nDisallow: /private", content_type="text/plain")
    http_server.route("/go", status=302, headers={"Location": "/private/x"})
    assert refusal(lambda: Fetcher().get(http_server.url("/go"))).reason == "robots_disallowed"
    assert "/private/x" not in http_server.paths()


def test_each_redirect_hop_counts_toward_the_page_cap(http_server):
    http_server.route("/go", status=302, headers={"Location": "/there"})
    http_server.route("/there", PAGE)
    fetcher = Fetcher(max_pages_per_domain=1)
    assert refusal(lambda: fetcher.get(http_server.url("/go"))).reason == "page_cap_reached"


@pytest.mark.parametrize("location", ["ftp://acme.example/x", "file:///etc/passwd"])
def test_a_redirect_to_another_scheme_is_refused(http_server, location):
    http_server.route("/go", status=302, headers={"Location": location})
    assert refusal(lambda: Fetcher().get(http_server.url("/go"))).reason == "unsupported_scheme"


def test_a_redirect_without_a_location_is_an_http_error(http_server):
    http_server.route("/go", status=302)
    error = refusal(lambda: Fetcher().get(http_server.url("/go")))
    assert error.reason == "http_error" and error.status == 302


# --- private networks (SSRF) -----------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://192.168.1.1:8080/admin",
        "http://100.64.0.1/",
        "http://0x7f.2/",
        "http://2130706434/",
        "http://[::ffff:10.0.0.1]/",
        "//10.0.0.6/same-scheme",
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    http_server, network, location
):
    http_server.route("/go", status=302, headers={"Location": location})
    error = refusal(lambda: Fetcher().get(http_server.url("/go")))
    assert error.reason == "blocked_address"
    assert "not a public address" in str(error)
    assert set(network.dialled) == {"127.0.0.1"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://255.255.255.255/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[fec0::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::7f00:1]/",  # IPv4-compatible ::127.0.0.1
        "http://[2002:a00:1::]/",  # 6to4 of 10.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
        "http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/",  # Teredo
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://0177.1/",
        "http://127.1/",
        "http://127.0.0.1./",
        "HTTP://LOCALHOST.:80/",
        "http://user:password@10.0.0.1/",
    ],
)
def test_private_and_disguised_addresses_are_refused(settings, network, url):
    settings.FETCH_ALLOWED_NETWORKS = []
    assert refusal(lambda: Fetcher().get(url)).reason == "blocked_address"
    assert network.dialled == []


def test_loopback_is_refused_unless_allowed(http_server, settings, network):
    settings.FETCH_ALLOWED_NETWORKS = []
    http_server.route("/", PAGE)
    assert refusal(lambda: Fetcher().get(http_server.url("/"))).reason == "blocked_address"
    assert http_server.requests == [] and network.dialled == []


def test_a_name_that_resolves_privately_is_refused(network):
    fetcher = Fetcher(resolver=lambda host, port: ["10.1.2.3"])
    error = refusal(lambda: fetcher.get("http://intranet.acme.example/"))
    assert error.reason == "blocked_address"
    assert str(error).startswith("intranet.acme.example resolves to 10.1.2.3")
    assert network.dialled == []


def test_one_private_answer_among_public_ones_is_enough_to_refuse(network):
    fetcher = Fetcher(resolver=lambda host, port: ["93.184.216.34", "127.0.0.2"])
    assert refusal(lambda: fetcher.get("http://acme.example/")).reason == "blocked_address"
    assert network.dialled == []


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_a_public_address_passes_and_is_where_the_connection_goes(network, address):
    fetcher = Fetcher(resolver=lambda host, port: [address])
    error = refusal(lambda: fetcher.get("http://acme.example/"))
    # The guard refused the dial: the site looks unreachable, but it was not blocked.
    assert error.reason == "connection_error"
    assert network.dialled == [address]


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(http_server, network):
    """DNS rebinding: the name is resolved once per request, and that answer is dialled."""
    answers = iter(["127.0.0.1", "10.0.0.1"])  # a rebinding server's second answer
    calls = []

    def resolver(host, port):
        calls.append(host)
        return [next(answers)]

    http_server.route("/", PAGE)
    result = Fetcher(resolver=resolver).get(f"http://acme.example:{http_server.port}/")
    assert result.status == 200
    assert calls == ["acme.example"]  # robots.txt reused the vetted address too
    assert network.dialled == ["127.0.0.1", "127.0.0.1"]
    assert http_server.requests[-1].headers["host"] == f"acme.example:{http_server.port}"


def test_the_system_resolver_is_checked_like_any_other(http_server, settings, network):
    settings.FETCH_ALLOWED_NETWORKS = []
    error = refusal(lambda: Fetcher().get(f"http://localhost:{http_server.port}/"))
    assert error.reason == "blocked_address"
    assert network.dialled == []


def test_a_name_that_does_not_resolve_is_a_connection_error():
    error = refusal(lambda: Fetcher().get("http://no-such-host.invalid/"))
    assert error.reason == "connection_error" and "Cannot resolve" in str(error)


def test_an_international_domain_name_is_looked_up_and_sent_in_ascii(http_server):
    calls = []
    http_server.route("/", PAGE)
    Fetcher(resolver=to_loopback(calls)).get(f"http://b\u00fccher.example:{http_server.port}/")
    assert calls == ["xn--bcher-kva.example"]
    assert http_server.requests[-1].headers["host"] == f"xn--bcher-kva.example:{http_server.port}"


# --- HTTPS to a vetted address -----------------------------------------------------------


@pytest.fixture
def certificates(tmp_path):
    return issue_certificates(tmp_path, ["acme.example", "beta.example"])


@pytest.fixture
def https_server(certificates):
    server = LoopbackServer(certificates=certificates, keep_alive=True)
    yield server
    server.close()


@pytest.fixture
def trusting(certificates):
    return ssl.create_default_context(cafile=str(certificates.ca))


def test_https_dials_the_vetted_address_and_names_the_site_in_sni_and_host(
    https_server, trusting, network
):
    https_server.route("/", PAGE)
    fetcher = Fetcher(resolver=to_loopback(), ssl_context=trusting)
    result = fetcher.get(https_server.url("/", host="acme.example"))
    assert result.content == PAGE.encode()
    assert network.dialled == ["127.0.0.1", "127.0.0.1"]
    seen = https_server.requests[-1]
    assert seen.sni == "acme.example"
    assert seen.headers["host"] == f"acme.example:{https_server.port}"


def test_a_certificate_for_another_name_is_refused(https_server, trusting):
    https_server.route("/", PAGE)
    fetcher = Fetcher(resolver=to_loopback(), ssl_context=trusting)
    error = refusal(lambda: fetcher.get(https_server.url("/", host="other.example")))
    assert error.reason == "connection_error"
    assert "certificate is not valid for 'other.example'" in str(error)
    assert https_server.requests == []


def test_an_untrusted_certificate_is_refused(https_server):
    https_server.route("/", PAGE)
    error = refusal(
        lambda: Fetcher(resolver=to_loopback()).get(https_server.url("/", host="acme.example"))
    )
    assert error.reason == "connection_error" and "CERTIFICATE_VERIFY_FAILED" in str(error)


def test_two_sites_on_one_address_never_share_a_connection(https_server, trusting):
    https_server.route("/", PAGE)
    fetcher = Fetcher(resolver=to_loopback(), ssl_context=trusting)
    fetcher.get(https_server.url("/", host="acme.example"))
    fetcher.get(https_server.url("/", host="beta.example"))
    assert [(seen.sni, seen.headers["host"].split(":")[0]) for seen in https_server.requests] == [
        ("acme.example", "acme.example"),  # robots.txt
        ("acme.example", "acme.example"),
        ("beta.example", "beta.example"),  # robots.txt
        ("beta.example", "beta.example"),
    ]


def test_an_https_request_is_cut_at_the_total_time_limit_too(https_server, trusting, settings):
    settings.FETCH_READ_TIMEOUT = 60
    settings.FETCH_TOTAL_TIMEOUT = 0.3
    https_server.route("/slow", PAGE, delay=20)
    fetcher = Fetcher(resolver=to_loopback(), ssl_context=trusting)
    started = time.monotonic()
    error = refusal(lambda: fetcher.get(https_server.url("/slow", host="acme.example")))
    assert error.reason == "timeout" and "in all" in str(error)
    assert time.monotonic() - started < 10  # far from both 0.3 s and an uncut 20 s


# --- URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://acme.example/", "file:///etc/passwd", "javascript:alert(1)", "gopher://a/"]
)
def test_other_schemes_are_refused(url):
    error = refusal(lambda: Fetcher().get(url))
    assert error.reason == "unsupported_scheme" and error.url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http:///path",
        "http://acme.example:99999/",
        "http://acme.example:0/",
        "http://exa mple.com/",
        "http://%41.example/",
        "http://[::1",
        "http://256.1.1.1/",
        "http://0177.0.0.1/",  # httpx refuses leading zeros in a dotted quad outright
        "acme.example/about",
        "",
    ],
)
def test_malformed_urls_are_refused(url, network):
    assert refusal(lambda: Fetcher().get(url)).reason == "bad_url"
    assert network.dialled == []


# --- size ------------------------------------------------------------------------------


def test_a_page_declaring_more_than_the_cap_is_refused_unread(http_server):
    http_server.route("/", b"<html>" + b"<div>x</div>" * 100_000)
    error = refusal(lambda: Fetcher(max_bytes=64 * 1024).get(http_server.url("/")))
    assert error.reason == "too_large"
    assert "declares 1,200,006 bytes" in str(error)


def test_an_html_page_without_a_declared_length_is_cut_at_the_cap_and_says_so(
    http_server, settings
):
    settings.FETCH_MAX_BYTES = 64 * 1024
    page = b"<html><head><title>Acme</title></head>" + b"<div>x</div>" * 100_000
    http_server.route("/", page, declare_length=False)
    result = Fetcher().get(http_server.url("/"))
    assert result.truncated
    assert result.content == page[: 64 * 1024]


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain"])
def test_a_sitemap_or_text_without_a_declared_length_over_the_cap_is_refused(
    http_server, content_type
):
    body = b"<urlset>" + b"<url><loc>http://acme.example/</loc></url>" * 10_000
    http_server.route("/sitemap.xml", body, content_type=content_type, declare_length=False)
    error = refusal(lambda: Fetcher(max_bytes=64 * 1024).get(http_server.url("/sitemap.xml")))
    assert error.reason == "too_large" and "longer than the cap of 65,536 bytes" in str(error)


def test_a_page_of_exactly_the_cap_is_read_whole(http_server):
    http_server.route("/", b"x" * 4096, declare_length=False)
    result = Fetcher(max_bytes=4096).get(http_server.url("/"))
    assert len(result.content) == 4096 and not result.truncated


def test_a_compressed_page_is_capped_by_its_unpacked_size(http_server):
    bomb = gzip.compress(b"<html>" + b" " * 10_000_000)  # about 10 KB on the wire
    http_server.route("/", bomb, headers={"Content-Encoding": "gzip"})
    result = Fetcher(max_bytes=1024 * 1024).get(http_server.url("/"))
    assert result.truncated and len(result.content) == 1024 * 1024


def test_a_compressed_page_is_unpacked(http_server):
    http_server.route("/", gzip.compress(PAGE.encode()), headers={"Content-Encoding": "gzip"})
    assert Fetcher().get(http_server.url("/")).content == PAGE.encode()
    assert http_server.requests[-1].headers["accept-encoding"] == "gzip, deflate"


# --- content types ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "content_type", "encoding"),
    [
        ("text/html; charset=ISO-8859-1", "text/html", "iso-8859-1"),
        ("application/xhtml+xml", "application/xhtml+xml", None),
        ("text/plain; charset=utf-8", "text/plain", "utf-8"),
        ("application/xml", "application/xml", None),
        ('Text/XML; charset="utf-8"', "text/xml", "utf-8"),
    ],
)
def test_pages_sitemaps_and_text_are_accepted(http_server, header, content_type, encoding):
    http_server.route("/doc", "<x/>", content_type=header)
    result = Fetcher().get(http_server.url("/doc"))
    assert (result.content_type, result.encoding) == (content_type, encoding)


@pytest.mark.parametrize(
    "content_type",
    ["application/pdf", "image/png", "application/json", "application/octet-stream", ""],
)
def test_anything_but_a_page_is_refused(http_server, content_type):
    http_server.route("/file", b"%PDF-1.7", content_type=content_type)
    error = refusal(lambda: Fetcher().get(http_server.url("/file")))
    assert error.reason == "unsupported_content_type"
    assert "is not a page we read" in str(error)


# --- errors, retries and timeouts ------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500])
def test_client_and_server_errors_say_the_status_and_are_not_retried(http_server, status):
    http_server.route("/page", "no", status=status)
    error = refusal(lambda: Fetcher().get(http_server.url("/page")))
    assert error.reason == "http_error" and error.status == status
    assert f"answered {status}" in str(error)
    assert http_server.paths().count("/page") == 1


def answers(*routes: Route):
    """A handler giving each route in turn, then the last one again."""
    queue = list(routes)
    return lambda seen: queue.pop(0) if len(queue) > 1 else queue[0]


def test_a_429_with_a_short_retry_after_is_retried_once(http_server):
    busy = Route(429, b"slow down", {"Retry-After": "2", "Content-Type": "text/plain"})
    http_server.handler(
        "/", answers(busy, Route(200, PAGE.encode(), {"Content-Type": "text/html"}))
    )
    clock, sleep, slept = fake_time()
    result = Fetcher(sleep=sleep, clock=clock).get(http_server.url("/"))
    assert result.status == 200
    assert slept == [2.0]
    assert http_server.paths().count("/") == 2


def test_a_503_that_persists_is_given_up_after_one_retry(http_server):
    http_server.handler("/", answers(Route(503, b"", {"Retry-After": "0"})))
    error = refusal(lambda: Fetcher().get(http_server.url("/")))
    assert error.reason == "http_error" and error.status == 503
    assert http_server.paths().count("/") == 2


@pytest.mark.parametrize("retry_after", ["3600", "Wed, 21 Oct 2099 07:28:00 GMT", None])
def test_a_429_asking_for_a_long_wait_or_none_is_not_retried(http_server, retry_after):
    headers = {"Retry-After": retry_after} if retry_after else {}
    http_server.route("/", "slow down", status=429, headers=headers)
    assert refusal(lambda: Fetcher().get(http_server.url("/"))).status == 429
    assert http_server.paths().count("/") == 1


def test_a_connect_timeout_is_retried_once(http_server, network):
    http_server.route("/", PAGE)
    network.failures = [TimeoutError("timed out")]
    assert Fetcher().get(http_server.url("/")).status == 200
    assert network.dialled == ["127.0.0.1"] * 3  # robots.txt twice, then the page


def test_a_connect_timeout_twice_gives_up(network):
    network.failures = [TimeoutError("timed out")] * 2
    error = refusal(lambda: Fetcher().get("http://127.0.0.1:9/"))
    assert error.reason == "timeout"
    assert len(network.dialled) == 2


def test_a_server_that_never_answers_times_out_without_a_retry(http_server, settings):
    settings.FETCH_READ_TIMEOUT = 0.2
    http_server.route("/slow", PAGE, delay=2)
    error = refusal(lambda: Fetcher().get(http_server.url("/slow")))
    assert error.reason == "timeout"
    assert http_server.paths().count("/slow") == 1


def test_a_request_is_cut_at_the_total_time_limit(http_server, settings):
    settings.FETCH_READ_TIMEOUT = 60
    settings.FETCH_TOTAL_TIMEOUT = 0.3
    http_server.route("/slow", PAGE, delay=20)
    started = time.monotonic()
    error = refusal(lambda: Fetcher().get(http_server.url("/slow")))
    assert error.reason == "timeout" and "0.3s in all" in str(error)
    # Cut at the limit, not noticed once the server answered: a bound 30 times the limit,
    # far from both 0.3 s and the 20 s an uncut request would take.
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_trickling_body_is_cut_at_the_total_time_limit(http_server, settings, declare_length):
    settings.FETCH_READ_TIMEOUT = 10
    settings.FETCH_TOTAL_TIMEOUT = 0.3
    http_server.route("/drip", b"x" * 100 * 1024, drip=0.02, declare_length=declare_length)
    error = refusal(lambda: Fetcher().get(http_server.url("/drip")))
    assert error.reason == "timeout" and "in all" in str(error)


def test_a_refused_connection_is_a_connection_error(http_server, network):
    network.failures = [ConnectionRefusedError("refused")]
    error = refusal(lambda: Fetcher().get(http_server.url("/")))
    assert error.reason == "connection_error"


# --- page cap --------------------------------------------------------------------------


def test_the_page_cap_per_domain_holds(http_server):
    for path in ("/1", "/2", "/3"):
        http_server.route(path, PAGE)
    fetcher = Fetcher(max_pages_per_domain=2)
    fetcher.get(http_server.url("/1"))
    fetcher.get(http_server.url("/2"))
    error = refusal(lambda: fetcher.get(http_server.url("/3")))
    assert error.reason == "page_cap_reached"
    assert "/3" not in http_server.paths()


def test_the_page_cap_counts_the_registrable_domain_not_the_host(http_server):
    http_server.route("/", PAGE)
    fetcher = Fetcher(max_pages_per_domain=2, resolver=to_loopback())
    fetcher.get(http_server.url("/", host="www.acme.co.uk"))
    fetcher.get(http_server.url("/", host="shop.acme.co.uk"))
    error = refusal(lambda: fetcher.get(http_server.url("/", host="acme.co.uk")))
    assert error.reason == "page_cap_reached" and "acme.co.uk" in str(error)
    assert fetcher.get(http_server.url("/", host="beta.co.uk")).status == 200


def test_robots_txt_does_not_count_as_a_page(http_server):
    http_server.route("/", PAGE)
    assert Fetcher(max_pages_per_domain=1).get(http_server.url("/")).status == 200


def test_the_page_cap_comes_from_the_settings(http_server, settings):
    settings.FETCH_MAX_PAGES_PER_DOMAIN = 1
    http_server.route("/1", PAGE)
    fetcher = Fetcher()
    fetcher.get(http_server.url("/1"))
    assert refusal(lambda: fetcher.get(http_server.url("/1"))).reason == "page_cap_reached"


# --- politeness ------------------------------------------------------------------------


def test_requests_to_one_host_are_spaced_by_the_politeness_delay(http_server):
    http_server.route("/a", PAGE)
    http_server.route("/b", PAGE)
    clock, sleep, slept = fake_time()
    fetcher = Fetcher(politeness_delay=1.5, sleep=sleep, clock=clock)
    fetcher.get(http_server.url("/a"))  # robots.txt, then /a
    fetcher.get(http_server.url("/b"))
    assert slept == [1.5, 1.5]


def test_different_hosts_do_not_wait_for_each_other(http_server):
    http_server.route("/", PAGE)
    clock, sleep, slept = fake_time()
    fetcher = Fetcher(politeness_delay=1.5, sleep=sleep, clock=clock, resolver=to_loopback())
    fetcher.get(http_server.url("/", host="acme.example"))
    fetcher.get(http_server.url("/", host="beta.example"))
    assert slept == [1.5, 1.5]  # each site's page after its own robots.txt, nothing more


def test_time_already_passed_counts_toward_the_delay(http_server):
    http_server.route("/", PAGE)
    clock, sleep, slept = fake_time()
    fetcher = Fetcher(politeness_delay=1.5, sleep=sleep, clock=clock)
    fetcher.get(http_server.url("/"))
    sleep(1.0)  # the caller spent a second on the page
    fetcher.get(http_server.url("/"))
    assert slept == [1.5, 1.0, 0.5]


def test_the_politeness_delay_comes_from_the_settings(http_server, settings):
    settings.FETCH_POLITENESS_DELAY = 0.25
    http_server.route("/", PAGE)
    clock, sleep, slept = fake_time()
    Fetcher(sleep=sleep, clock=clock).get(http_server.url("/"))
    assert slept == [0.25]


# --- decoding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "header_charset", "expected"),
    [
        ("<p>Caf\u00e9 M\u00fcller</p>".encode("cp1252"), "windows-1252", "Café Müller"),
        (b'<meta charset="iso-8859-1"><p>Se\xf1or</p>', None, "Señor"),
        ("<meta charset='shift_jis'><p>東京の会社</p>".encode("shift_jis"), None, "東京の会社"),
        ("<p>plain ünïcode</p>".encode(), None, "plain ünïcode"),
        # Labelled Latin-1, written in windows-1252: browsers show curly quotes and dashes.
        ("<p>\u201cHi\u201d \u2013 Caf\u00e9</p>".encode("cp1252"), "iso-8859-1", "“Hi” – Café"),
        # A byte-order mark outranks the header, as in browsers.
        (b"\xef\xbb\xbf<p>Caf\xc3\xa9</p>", "iso-8859-1", "Café"),
        # Nothing declared: detected.
        (
            "<p>東京の会社です。私たちはロボットを作っています。</p>".encode("shift_jis"),
            None,
            "ロボット",
        ),
    ],
)
def test_pages_in_other_charsets_are_decoded(http_server, body, header_charset, expected):
    content_type = "text/html" + (f"; charset={header_charset}" if header_charset else "")
    http_server.route("/", body, content_type=content_type)
    assert expected in decode_html(Fetcher().get(http_server.url("/")))


def test_a_page_with_an_unknown_charset_label_still_decodes(http_server):
    http_server.route("/", "<p>Café</p>", content_type="text/html; charset=utf8mb4")
    assert "Café" in decode_html(Fetcher().get(http_server.url("/")))


# --- settings --------------------------------------------------------------------------


def settings_in_a_fresh_process(env: dict[str, str], expression: str):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO", "DATABASE", "SECRET", "FIELD_", "ALLOWED", "DEBUG", "FETCH"))
    }
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdr.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "FIELD_ENCRYPTION_KEY": "k" * 44,
    "ALLOWED_HOSTS": "sdr.example.com",
    "PUBLIC_BASE_URL": "https://sdr.example.com",
}


@pytest.mark.parametrize("env", [{}, PRODUCTION], ids=["debug", "production"])
def test_no_non_public_network_is_reachable_by_default_debugging_or_not(env):
    # Only the demo commands allow loopback (tests/sdr/test_loopback_only_in_demo.py).
    result = settings_in_a_fresh_process(env, "settings.FETCH_ALLOWED_NETWORKS")
    assert result.stdout.strip() == "[]", result.stderr


def test_allowed_networks_are_read_from_a_comma_separated_list():
    env = {**PRODUCTION, "FETCH_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.5.0/24"}
    result = settings_in_a_fresh_process(env, "settings.FETCH_ALLOWED_NETWORKS")
    assert result.stdout.strip() == "['10.0.0.0/8', '192.168.5.0/24']", result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FETCH_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-net", "must list networks"),
        ("FETCH_MAX_BYTES", "lots", "must be a whole number"),
        ("FETCH_MAX_PAGES_PER_DOMAIN", "0", "must be at least 1"),
        ("FETCH_POLITENESS_DELAY", "-1", "must be at least 0"),
        ("FETCH_READ_TIMEOUT", "soon", "must be a number"),
        ("FETCH_MAX_REDIRECTS", "-1", "must be at least 0"),
    ],
)
def test_a_bad_fetch_setting_stops_start_up_naming_the_variable(name, value, message):
    result = settings_in_a_fresh_process({name: value}, "1")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} {message}" in result.stderr


# --- the loopback test server ----------------------------------------------------------


def test_the_test_server_serves_a_site_folder_and_nothing_outside_it(http_server, tmp_path):
    site = tmp_path / "site"
    (site / "about").mkdir(parents=True)
    (site / "index.html").write_text("<title>Home</title>")
    (site / "about" / "index.html").write_text("<title>About</title>")
    (tmp_path / "secret.html").write_text("secret")
    http_server.serve_directory("/", site)
    fetcher = Fetcher()
    assert fetcher.get(http_server.url("/")).content == b"<title>Home</title>"
    assert fetcher.get(http_server.url("/about/")).content == b"<title>About</title>"
    assert http_server.find(Seen("/../secret.html", {})).status == 404
