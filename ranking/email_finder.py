"""Guess an address for a lead without one: the company's address pattern (first.last,
f.last, ...) inferred from the addresses it is known to use, and the domain's MX record
checked (dnspython). A guess is stored as an unverified EmailGuess, never as Lead.email:
sending to a wrong guess is a bounce that hurts the mailbox's reputation.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

import dns.exception
import dns.name
import dns.resolver
from django.db import transaction
from django.db.models import F

from leads.models import Lead
from leads.normalize import InvalidValue, email_normalize, is_free_mail
from ranking.models import EmailGuess
from sdr.models import Workspace

# Seconds one MX lookup may take: a slow name server must not hold up the whole batch.
DNS_LIFETIME = 5.0

# Most common first: a tie between patterns goes to the earlier one.
PATTERNS: dict[str, str] = {
    "first.last": "{first}.{last}",
    "flast": "{f}{last}",
    "f.last": "{f}.{last}",
    "first": "{first}",
    "firstlast": "{first}{last}",
    "first_last": "{first}_{last}",
    "firstl": "{first}{l}",
    "last.first": "{last}.{first}",
    "last": "{last}",
}


def name_part(text: str) -> str:
    """A name as mailboxes spell it: accents folded (José -> jose), letters only."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if "a" <= ch <= "z")[:40]


def local_part(first: str, last: str, pattern: str) -> str | None:
    """The mailbox a pattern gives this name, or None when the name cannot fill it."""
    first, last = name_part(first), name_part(last)
    template = PATTERNS[pattern]
    if ("{first}" in template or "{f}" in template) and not first:
        return None
    if ("{last}" in template or "{l}" in template) and not last:
        return None
    return template.format(first=first, last=last, f=first[:1], l=last[:1])


def pattern_infer(known: Iterable[tuple[str, str, str]]) -> tuple[str, int] | None:
    """(pattern, how many known addresses follow it) from (first, last, local part)
    triples, or None when no known address follows any pattern."""
    votes: Counter[str] = Counter()
    for first, last, local in known:
        for pattern in PATTERNS:
            if local_part(first, last, pattern) == local.lower():
                votes[pattern] += 1
                break  # one vote per address: the most common pattern that fits
    if not votes:
        return None
    best = max(PATTERNS, key=lambda p: (votes[p], -list(PATTERNS).index(p)))
    return best, votes[best]


def mx_exists(domain: str, *, resolver: dns.resolver.Resolver) -> bool:
    """Whether the domain publishes an MX record. No answer, no such domain, a malformed
    name or a DNS timeout all count as no: an unproven guess stays unproven."""
    try:
        name = dns.name.from_text(domain)
        answer = resolver.resolve(name, "MX", lifetime=resolver.lifetime)
    except (dns.exception.DNSException, ValueError, UnicodeError):
        return False
    return any(str(record.exchange) not in ("", ".") for record in answer)


def email_guess(*, lead: Lead, resolver: dns.resolver.Resolver) -> EmailGuess | None:
    """Guess and store an address for a lead without one, from its colleagues' known
    addresses at the company's domain; None when there is nothing to go on."""
    company = lead.company
    if lead.email or company is None or not company.domain or is_free_mail(company.domain):
        return None
    colleagues = (
        Lead.objects.for_workspace(lead.workspace)
        .filter(company=company, email__endswith=f"@{company.domain}")
        # An address that bounced is no evidence of how the company spells its mailboxes.
        .exclude(status=Lead.Status.BOUNCED)
        .values_list("first_name", "last_name", "email")
    )
    known = [(f, la, email.rsplit("@", 1)[0]) for f, la, email in colleagues]
    inferred = pattern_infer(known)
    if inferred is None:
        return None
    pattern, agreeing = inferred
    local = local_part(lead.first_name, lead.last_name, pattern)
    if local is None:
        return None
    try:
        address = email_normalize(f"{local}@{company.domain}")
    except InvalidValue:
        return None
    mx_found = mx_exists(company.domain, resolver=resolver)
    with transaction.atomic():
        guess, _ = EmailGuess.objects.for_workspace(lead.workspace).update_or_create(
            workspace=lead.workspace,
            lead=lead,
            defaults={
                "address": address,
                "pattern": pattern,
                "mx_found": mx_found,
                "based_on": agreeing,
                "verified": False,
            },
        )
    return guess


def email_guesses_for_top(
    *, workspace: Workspace, resolver: dns.resolver.Resolver, limit: int = 25
) -> list[EmailGuess]:
    """Guesses for the best-ranked leads without an email that have none yet."""
    guessed = EmailGuess.objects.for_workspace(workspace).values("lead_id")
    leads = (
        Lead.objects.for_workspace(workspace)
        .filter(email="", company__isnull=False)
        .exclude(pk__in=guessed)
        .select_related("company", "workspace")
        .order_by(F("score").desc(nulls_last=True), "pk")
    )
    guesses = []
    for lead in leads[:limit]:
        guess = email_guess(lead=lead, resolver=resolver)
        if guess is not None:
            guesses.append(guess)
    return guesses


def resolver_default() -> dns.resolver.Resolver:
    """The system's name servers, with a bounded wait per lookup."""
    resolver = dns.resolver.Resolver()
    resolver.lifetime = DNS_LIFETIME
    return resolver


def email_guesses_all(*, resolver: dns.resolver.Resolver, limit: int = 25) -> int:
    """Guesses for the top-ranked leads without an email in every workspace; how many."""
    total = 0
    for workspace in Workspace.objects.order_by("pk"):
        total += len(email_guesses_for_top(workspace=workspace, resolver=resolver, limit=limit))
    return total
