"""The safe fetcher: every outbound request is bounded, polite and kept off private networks.

The servers here listen on 127.0.0.1, which the test settings allow. Addresses elsewhere
are only ever refused before any connection is made.
"""

from __future__ import annotations

import pytest

from sdr.fetch import Fetcher, FetchError, decode_html

PAGE = "<html><head><title>Acme</title></head><body>Hello</body></html>"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.FETCH_POLITENESS_DELAY = 0
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]


def reason_of(call) -> str:
    with pytest.raises(FetchError) as error:
        call()
    return str(error.value.reason)


def test_a_page_is_fetched_with_an_honest_user_agent(http_server, settings):
    http_server.route(
        "/", PAGE, headers={"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"}
    )
    result = Fetcher().get(http_server.url("/"))
    assert result.status == 200
    assert result.content == PAGE.encode()
    assert result.content_type == "text/html"
    assert result.etag == '"v1"'
    seen = http_server.requests[-1]
    assert seen.headers["user-agent"] == settings.FETCH_USER_AGENT
    assert seen.headers["host"] == f"127.0.0.1:{http_server.port}"


def test_conditional_requests_get_not_modified(http_server):
    http_server.route("/", b"", status=304)
    result = Fetcher().get(
        http_server.url("/"), etag='"v1"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT"
    )
    assert result.not_modified and result.content == b""
    sent = http_server.requests[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Mon, 02 Nov 2026 10:00:00 GMT"


def test_robots_txt_disallow_is_honored(http_server):
    http_server.route("/robots.txt", "User-agent: *\nDisallow: /private", content_type="text/plain")
    http_server.route("/private/team", PAGE)
    assert reason_of(lambda: Fetcher().get(http_server.url("/private/team"))) == "robots_disallowed"
    assert "/private/team" not in http_server.paths()


def test_a_missing_robots_txt_allows_everything(http_server):
    http_server.route("/", PAGE)
    assert Fetcher().get(http_server.url("/")).status == 200


def test_a_failing_robots_txt_means_stay_out(http_server):
    http_server.route("/robots.txt", "oops", status=500, content_type="text/plain")
    http_server.route("/", PAGE)
    assert reason_of(lambda: Fetcher().get(http_server.url("/"))) == "robots_disallowed"


def test_robots_txt_is_read_once_per_site(http_server):
    http_server.route("/a", PAGE)
    http_server.route("/b", PAGE)
    fetcher = Fetcher()
    fetcher.get(http_server.url("/a"))
    fetcher.get(http_server.url("/b"))
    assert http_server.paths().count("/robots.txt") == 1


def test_redirects_are_followed_and_reported(http_server):
    http_server.route("/old", status=301, headers={"Location": "/new"})
    http_server.route("/new", PAGE)
    result = Fetcher().get(http_server.url("/old"))
    assert result.final_url == http_server.url("/new")
    assert result.redirects == (http_server.url("/new"),)


def test_a_redirect_loop_is_stopped(http_server):
    http_server.route("/a", status=302, headers={"Location": "/b"})
    http_server.route("/b", status=302, headers={"Location": "/a"})
    assert reason_of(lambda: Fetcher().get(http_server.url("/a"))) == "redirect_loop"


def test_too_many_redirects_are_stopped(http_server, settings):
    settings.FETCH_MAX_REDIRECTS = 2
    for i in range(5):
        http_server.route(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    assert reason_of(lambda: Fetcher().get(http_server.url("/r0"))) == "too_many_redirects"


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
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(http_server, location):
    http_server.route("/go", status=302, headers={"Location": location})
    assert reason_of(lambda: Fetcher().get(http_server.url("/go"))) == "blocked_address"


def test_loopback_is_refused_unless_allowed(http_server, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    http_server.route("/", PAGE)
    assert reason_of(lambda: Fetcher().get(http_server.url("/"))) == "blocked_address"
    assert http_server.requests == []


def test_a_name_that_resolves_privately_is_refused(http_server):
    def resolver(host, port):
        return ["10.1.2.3"]

    fetcher = Fetcher(resolver=resolver)
    assert reason_of(lambda: fetcher.get("http://intranet.acme.example/")) == "blocked_address"


def test_one_private_answer_among_public_ones_is_enough_to_refuse():
    fetcher = Fetcher(resolver=lambda host, port: ["93.184.216.34", "127.0.0.2"])
    assert reason_of(lambda: fetcher.get("http://acme.example/")) == "blocked_address"


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(http_server):
    """DNS rebinding: the name is resolved once, and that answer is where we connect."""
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"]

    http_server.route("/", PAGE)
    result = Fetcher(resolver=resolver).get(f"http://acme.example:{http_server.port}/")
    assert result.status == 200
    assert calls == ["acme.example"]  # robots.txt reused the vetted address too
    assert http_server.requests[-1].headers["host"] == f"acme.example:{http_server.port}"


@pytest.mark.parametrize("url", ["ftp://acme.example/", "file:///etc/passwd", "javascript:x"])
def test_other_schemes_are_refused(url):
    assert reason_of(lambda: Fetcher().get(url)) == "unsupported_scheme"


@pytest.mark.parametrize("url", ["http://", "http://acme.example:99999/"])
def test_malformed_urls_are_refused(url):
    assert reason_of(lambda: Fetcher().get(url)) == "bad_url"


def test_a_huge_page_is_cut_at_the_byte_cap(http_server):
    http_server.route("/", b"<html>" + b"<div>x</div>" * 200_000)
    result = Fetcher(max_bytes=64 * 1024).get(http_server.url("/"))
    assert len(result.content) == 64 * 1024
    assert result.truncated


def test_non_pages_are_not_downloaded(http_server):
    http_server.route("/file.pdf", b"%PDF-1.7", content_type="application/pdf")
    assert reason_of(lambda: Fetcher().get(http_server.url("/file.pdf"))) == (
        "unsupported_content_type"
    )


def test_errors_say_the_status(http_server):
    http_server.route("/gone", "gone", status=410)
    with pytest.raises(FetchError) as error:
        Fetcher().get(http_server.url("/gone"))
    assert error.value.reason == "http_error" and error.value.status == 410
    assert "410" in str(error.value)


def test_a_429_with_a_short_retry_after_is_retried_once(http_server):
    answers = iter(
        [
            dict(
                status=429,
                body=b"slow down",
                headers={"Retry-After": "0", "Content-Type": "text/plain"},
            ),
            dict(status=200, body=PAGE.encode(), headers={"Content-Type": "text/html"}),
        ]
    )
    from tests.httpserver import Route

    http_server.handler("/", lambda seen: Route(**next(answers)))
    slept = []
    result = Fetcher(sleep=slept.append).get(http_server.url("/"))
    assert result.status == 200
    assert http_server.paths().count("/") == 2


def test_a_server_that_never_answers_times_out(http_server, settings):
    settings.FETCH_READ_TIMEOUT = 0.3
    http_server.route("/slow", PAGE, delay=2)
    assert (
        reason_of(lambda: Fetcher(sleep=lambda s: None).get(http_server.url("/slow"))) == "timeout"
    )


def test_the_page_cap_per_domain_holds(http_server):
    for path in ("/1", "/2", "/3"):
        http_server.route(path, PAGE)
    fetcher = Fetcher(max_pages_per_domain=2)
    fetcher.get(http_server.url("/1"))
    fetcher.get(http_server.url("/2"))
    assert reason_of(lambda: fetcher.get(http_server.url("/3"))) == "page_cap_reached"


def test_requests_to_one_host_are_spaced_by_the_politeness_delay(http_server):
    http_server.route("/a", PAGE)
    http_server.route("/b", PAGE)
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    fetcher = Fetcher(politeness_delay=1.5, sleep=sleep, clock=lambda: now[0])
    fetcher.get(http_server.url("/a"))  # robots.txt, then /a
    fetcher.get(http_server.url("/b"))
    assert slept == [1.5, 1.5]


@pytest.mark.parametrize(
    ("body", "header_charset", "expected"),
    [
        ("<p>Caf\u00e9 M\u00fcller</p>".encode("cp1252"), "windows-1252", "Café Müller"),
        (b'<meta charset="iso-8859-1"><p>Se\xf1or</p>', None, "Señor"),
        ("<meta charset='shift_jis'><p>東京の会社</p>".encode("shift_jis"), None, "東京の会社"),
        ("<p>plain ünïcode</p>".encode(), None, "plain ünïcode"),
    ],
)
def test_pages_in_other_charsets_are_decoded(http_server, body, header_charset, expected):
    content_type = "text/html" + (f"; charset={header_charset}" if header_charset else "")
    http_server.route("/", body, content_type=content_type)
    assert expected in decode_html(Fetcher().get(http_server.url("/")))


def test_a_bad_allowed_network_setting_stops_start_up():
    from tests.sdr.test_settings import run_settings

    result = run_settings({"FETCH_ALLOWED_NETWORKS": "10.0.0.0/8,not-a-net"})
    assert result.returncode != 0
    assert "FETCH_ALLOWED_NETWORKS must list networks" in result.stderr
