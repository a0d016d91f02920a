from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def sort_header(
    label: str, key: str, current: str, querystring: str, highest_first: bool = False
) -> str:
    """A column header that sorts by `key`, toggling direction when already sorted by it.
    `highest_first` columns (scores, dates) start from the top: the best lead, the latest
    activity."""
    if current in (key, f"-{key}"):
        target = key if current == f"-{key}" else f"-{key}"
    else:
        target = f"-{key}" if highest_first else key
    arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
    aria = "ascending" if current == key else "descending" if current == f"-{key}" else "none"
    prefix = f"{querystring}&" if querystring else ""
    return format_html(
        '<th aria-sort="{}"><a href="?{}sort={}">{} {}</a></th>', aria, prefix, target, label, arrow
    )
