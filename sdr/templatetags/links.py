"""`{{ value|outside_url }}`: the URL if it may be a link (sdr.links.outside_url), else "".

Every href whose value came from outside goes through it:
`{% with href=lead.linkedin_url|outside_url %}{% if href %}<a href="{{ href }}">...`.
"""

from __future__ import annotations

from django import template

from sdr import links

register = template.Library()


@register.filter
def outside_url(value: object) -> str:
    return links.outside_url(value)
