"""The email finder: a pattern from known addresses, the MX checked against a loopback DNS
server, the guess stored unverified and never written into Lead.email."""

from __future__ import annotations

import pytest

from ranking.email_finder import (
    email_guess,
    email_guesses_for_top,
    local_part,
    mx_exists,
    name_part,
    pattern_infer,
)
from ranking.models import EmailGuess
from tests.factories import CompanyFactory, LeadFactory
from tests.ranking.dns_server import DnsServer


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "jose"),
        ("O'Brien-Smith", "obriensmith"),
        ("Zoë 🚀", "zoe"),
        ("李", ""),
        ("Robert'); DROP TABLE--", "robertdroptable"),
        ("a\u0000b\nc", "abc"),
        ("", ""),
    ],
)
def test_names_become_mailbox_letters(raw, expected):
    assert name_part(raw) == expected


def test_the_pattern_is_the_one_most_known_addresses_follow():
    known = [
        ("Ana", "Silva", "ana.silva"),
        ("Bo", "Chen", "bo.chen"),
        ("Cy", "Dee", "cdee"),
        ("Nobody", "Matches", "sales"),
    ]
    assert pattern_infer(known) == ("first.last", 2)
    assert pattern_infer([("Ana", "Silva", "asilva")]) == ("flast", 1)
    assert pattern_infer([("José", "Núñez", "j.nunez")]) == ("f.last", 1)
    assert pattern_infer([("Ana", "Silva", "info"), ("", "", "ana")]) is None
    assert pattern_infer([]) is None


def test_a_name_that_cannot_fill_the_pattern_gives_no_guess():
    assert local_part("李", "王", "first.last") is None
    assert local_part("Ana", "", "first.last") is None
    assert local_part("Ana", "", "first") == "ana"


def test_mx_is_checked_against_dns(dns_server: DnsServer):
    resolver = dns_server.resolver()
    assert mx_exists("acme.example", resolver=resolver)
    assert not mx_exists("nothing-here.example", resolver=resolver)
    assert not mx_exists("bad..name", resolver=resolver)
    assert not mx_exists("a" * 300 + ".example", resolver=resolver)
    assert "acme.example." in dns_server.queries


def test_no_dns_server_means_no_mx_not_a_crash():
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = 9  # discard: nothing answers
    resolver.lifetime = 0.5
    assert not mx_exists("acme.example", resolver=resolver)


def test_a_guess_is_stored_unverified_and_lead_email_stays_blank(workspace, dns_server):
    company = CompanyFactory(workspace=workspace, domain="acme.example")
    LeadFactory(workspace=workspace, company=company, first_name="Ana", last_name="Silva",
                email="ana.silva@acme.example")  # fmt: skip
    LeadFactory(workspace=workspace, company=company, first_name="Bo", last_name="Chen",
                email="bo.chen@acme.example")  # fmt: skip
    found = LeadFactory(
        workspace=workspace, company=company, first_name="Zoë", last_name="Ñúñez", email=""
    )

    guess = email_guess(lead=found, resolver=dns_server.resolver())

    assert guess is not None
    assert (guess.address, guess.pattern, guess.based_on) == (
        "zoe.nunez@acme.example",
        "first.last",
        2,
    )
    assert guess.mx_found and not guess.verified
    found.refresh_from_db()
    assert found.email == ""


def test_no_known_addresses_or_a_free_mail_company_gives_no_guess(workspace, dns_server):
    bare = CompanyFactory(workspace=workspace, domain="bare.example")
    lone = LeadFactory(workspace=workspace, company=bare, email="")
    assert email_guess(lead=lone, resolver=dns_server.resolver()) is None
    gmail = CompanyFactory(workspace=workspace, domain="gmail.com")
    LeadFactory(workspace=workspace, company=gmail, first_name="Ana", last_name="Silva",
                email="ana.silva@gmail.com")  # fmt: skip
    person = LeadFactory(workspace=workspace, company=gmail, email="")
    assert email_guess(lead=person, resolver=dns_server.resolver()) is None
    assert not EmailGuess.objects.for_workspace(workspace).exists()


def test_top_ranked_leads_without_email_are_offered_first(workspace, neighbour, dns_server):
    company = CompanyFactory(workspace=workspace, domain="acme.example")
    LeadFactory(workspace=workspace, company=company, first_name="Ana", last_name="Silva",
                email="asilva@acme.example")  # fmt: skip
    top = LeadFactory(workspace=workspace, company=company, first_name="Top", last_name="One",
                      email="", score=0.9)  # fmt: skip
    LeadFactory(workspace=workspace, company=company, first_name="Low", last_name="Two",
                email="", score=0.1)  # fmt: skip
    LeadFactory(workspace=workspace, company=company, first_name="Never", last_name="Scored",
                email="")  # fmt: skip

    guesses = email_guesses_for_top(workspace=workspace, resolver=dns_server.resolver(), limit=2)

    assert [g.address for g in guesses] == ["tone@acme.example", "ltwo@acme.example"]
    assert guesses[0].lead_id == top.pk
    again = email_guesses_for_top(workspace=workspace, resolver=dns_server.resolver())
    assert [g.address for g in again] == ["nscored@acme.example"]
    theirs = EmailGuess.objects.for_workspace(neighbour.workspace)
    assert [g.address for g in theirs] == [neighbour.rows[EmailGuess].address]
