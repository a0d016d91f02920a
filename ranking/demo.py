"""The demo's ranking: an ideal customer profile that fits the demo campaign (Pickwell
sells warehouse picking carts to operations and finance leaders of mid-size companies),
every demo lead scored from it, and, after the demo's replies, a night's re-scoring and
guessed addresses for the leads found on team pages.

The demo's replies then record outcomes, and each outcome re-scores (eagerly, as every
task in the demo), so the scores move from "the profile's fit" to "learned".
"""

from __future__ import annotations

from typing import Any

import dns.resolver

from ranking.email_finder import email_guesses_for_top
from ranking.models import EmailGuess, IdealCustomerProfile
from ranking.scoring import nightly_rescore
from sdr.models import Workspace

DEMO_PROFILE: dict[str, Any] = {
    "industries": ["automation", "logistics", "warehousing", "manufacturing"],
    "company_sizes": ["51-200", "201-1000"],
    "seniorities": ["c_level", "vp", "head", "director"],
    "titles": ["operations", "finance", "revenue", "sales", "supply chain"],
    "departments": ["operations", "finance", "sales"],
    "locations": ["GB"],
    "must_have": [],
    "excluded": [],
}


def seed_demo_ranking(*, workspace: Workspace) -> int:
    """The demo profile (kept as it is if someone edited it), then every lead scored;
    how many leads were scored."""
    IdealCustomerProfile.objects.for_workspace(workspace).get_or_create(
        workspace=workspace, defaults=DEMO_PROFILE
    )
    return nightly_rescore(workspace=workspace)


def demo_resolver() -> dns.resolver.Resolver:
    """A resolver that asks no name server: the demo runs offline, and its companies are
    under the reserved .example domain, which has no MX records anywhere (RFC 2606), so
    "no MX found" is the true answer, given without the network."""
    return dns.resolver.Resolver(configure=False)


def seed_demo_night(*, workspace: Workspace) -> list[EmailGuess]:
    """What the nightly job does, once: every lead re-scored (the referrals the demo's
    replies brought in are new leads with no score yet), then guessed addresses for the
    best-ranked leads without one (idempotent)."""
    nightly_rescore(workspace=workspace)
    return email_guesses_for_top(workspace=workspace, resolver=demo_resolver())
