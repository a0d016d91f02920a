"""Every page the product serves carries the security headers, and no page turns a value
from outside into a script link (issue 15). Pages come from the isolation walker
(tests/sdr/isolation_walk.py), so a new page is checked without an edit here."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.test import Client

from leads.models import Company, Fact, Lead, Signal
from outreach.models import Message
from sdr.links import outside_url
from sdr.security_headers import POLICY
from tests.sdr.isolation_walk import routes, world_build

HOSTILE_URLS = [
    "javascript:alert(document.domain)//linkedin.com/in/x",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]
SCRIPT_SCHEME = re.compile(r"^\s*(javascript|data|vbscript):", re.IGNORECASE)
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "poster", "data")


@pytest.fixture
def world(db):
    return world_build()


def hostile_seed(world) -> None:
    """Workspace A's rows, rewritten with what a hostile site or CSV could leave behind
    (written with update(), past every check, as rows stored before the checks were)."""
    rows = world.a_rows
    evil = HOSTILE_URLS[0]
    Lead.unscoped_objects.filter(pk=rows[Lead].pk).update(
        linkedin_url=evil,
        first_name='<a href="javascript:alert(1)">Dana</a>',
        title="javascript:alert(1)",
    )
    Company.unscoped_objects.filter(pk=rows[Company].pk).update(
        name='Acme"><a href="javascript:alert(1)">x</a>',
        website="javascript:alert(1)//acme.example/",
        socials={"linkedin": evil, "twitter": "data:text/html,x", "github": "vbscript:x"},
    )
    Fact.unscoped_objects.filter(pk=rows[Fact].pk).update(
        source_url="javascript:alert(1)//acme.example/about",
        value={"url": evil, "text": "javascript:alert(1)"},
        evidence='<a href="javascript:alert(1)">read more</a>',
    )
    Signal.unscoped_objects.filter(pk=rows[Signal].pk).update(source_url=HOSTILE_URLS[4])
    Message.unscoped_objects.filter(pk=rows[Message].pk).update(
        subject="javascript:alert(1)", body="See javascript:alert(1) and data:text/html,x"
    )


def web_pages(world) -> list[str]:
    """Every web page the walker knows that answers GET, with A's ids filled in."""
    urls = []
    for route in routes():
        if route.is_api or "get" not in route.methods(("get",)):
            continue
        urls.append(world.url(route, "a"))
    return urls


def script_links(html: str) -> list[str]:
    soup = BeautifulSoup(html, "lxml")
    found = []
    for element in soup.find_all(True):
        for attribute in URL_ATTRIBUTES:
            value = element.get(attribute)
            if isinstance(value, str) and SCRIPT_SCHEME.match(value.replace("\t", "")):
                found.append(f"<{element.name} {attribute}={value!r}>")
    return found


# -- links from outside ------------------------------------------------------------------------


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_the_link_check_refuses_script_urls(url):
    assert outside_url(url) == ""


def test_no_page_renders_a_script_link_from_hostile_data(world):
    hostile_seed(world)
    found, answered = [], 0
    for url in web_pages(world):
        response = world.session.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        answered += 1
        found += [f"{url}: {link}" for link in script_links(response.content.decode())]
    assert answered >= 10, "the walk reached too few pages to mean anything"
    assert not found, "\n".join(found)


def test_the_scan_would_see_a_script_link(world):
    assert script_links('<p><a href=" JavaScript:alert(1)">x</a></p>')
    assert script_links('<a href="java\tscript:alert(1)">x</a>')


def test_the_lead_page_shows_a_hostile_linkedin_url_as_text_not_a_link(world):
    hostile_seed(world)
    lead = world.a_rows[Lead]
    page = world.session.get(f"/leads/{lead.pk}/").content.decode()
    assert "linkedin.com/in/x" in page  # shown, so a person can see what was found
    assert not script_links(page)


# -- headers -----------------------------------------------------------------------------------


EXPECTED = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def test_the_policy_allows_no_inline_code_and_no_framing():
    directives = dict(d.split(" ", 1) for d in POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in POLICY


def test_every_page_carries_the_security_headers(world):
    pages = [*web_pages(world), "/login/", "/api/docs/", "/api/schema/", "/healthz"]
    missing = []
    for url in pages:
        for client in (world.session, Client()):
            response = client.get(url)
            for header, value in EXPECTED.items():
                if response.get(header) != value:
                    missing.append(
                        f"{url} ({response.status_code}): {header}={response.get(header)!r}"
                    )
    assert not missing, "\n".join(missing)


def test_api_answers_and_errors_carry_them_too(api):
    for response in (
        api.get("/api/v1/leads/"),
        api.get("/api/v1/nowhere/"),
        api.get("/api/v1/leads/?search=%00"),
    ):
        for header, value in EXPECTED.items():
            assert response.get(header) == value, (response.status_code, header)


def test_no_page_has_inline_script_or_style_or_handlers(world):
    """What the CSP would refuse, found before a browser does: inline <script>, <style>,
    style= and on*= attributes."""
    found = []
    for url in [*web_pages(world), "/login/", "/api/docs/"]:
        for client in (world.session, Client()):
            response = client.get(url)
            if "html" not in response.get("Content-Type", ""):
                continue
            soup = BeautifulSoup(response.content.decode(), "lxml")
            for script in soup.find_all("script"):
                if not script.get("src") and script.get("type") != "application/json":
                    found.append(f"{url}: inline <script>")
            found += [f"{url}: <style>" for _ in soup.find_all("style")]
            for element in soup.find_all(True):
                for attribute in element.attrs:
                    if (
                        attribute.startswith("on")
                        or attribute in ("style", "hx-on")
                        or attribute.startswith("hx-on")
                    ):
                        found.append(f"{url}: <{element.name} {attribute}>")
    assert not found, "\n".join(sorted(set(found)))


def test_the_api_docs_script_is_served_as_a_file(client):
    page = client.get("/api/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?script[^"]*)"', page)
    assert script, page
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
