"""The lead page's guessed address: `{% lead_email_guess lead as guess %}`."""

from __future__ import annotations

from django import template

from leads.models import Lead
from ranking.models import EmailGuess

register = template.Library()


@register.simple_tag
def lead_email_guess(lead: Lead) -> EmailGuess | None:
    """The lead's guessed address, read in the lead's own workspace; None when the lead
    has an email (a guess is only offered in its place) or none was guessed."""
    if lead.email:
        return None
    return EmailGuess.objects.for_workspace(lead.workspace).filter(lead=lead).first()
