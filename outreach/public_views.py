"""Pages for people who are not users: the recipients of our emails."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from outreach.models import Message
from outreach.unsubscribe import (
    BadToken,
    address_masked,
    unsubscribe,
    unsubscribe_resolve,
    unsubscribe_token_read,
)
from sdr import rls


# No CSRF token and no login: the POST comes from the recipient's mail client (RFC 8058
# one-click) or from the confirm button on the page, and the signed token is the only
# credential. The worst a forged cross-site POST can do with a valid token is what the
# token's owner asked for.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        workspace_id, _ = unsubscribe_token_read(token)
    except BadToken:
        return render(request, "outreach/unsubscribe_invalid.html", status=400)
    # The signed link names whose message it is: the page acts for that workspace only.
    with rls.workspace_scope(workspace_id):
        return _unsubscribe_page(request, token)


def _unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "POST":
            done = unsubscribe(token=token)
            return render(
                request,
                "outreach/unsubscribe_done.html",
                _context(done.message, done.address),
            )
        message = unsubscribe_resolve(token=token)
    except BadToken:
        return render(request, "outreach/unsubscribe_invalid.html", status=400)
    if message is None:
        return render(request, "outreach/unsubscribe_done.html", _context(None, ""))
    address = message.to_email or message.enrollment.lead.email
    return render(request, "outreach/unsubscribe.html", _context(message, address))


def _context(message: Message | None, address: str) -> dict[str, str]:
    if message is None:
        return {"sender": "", "address": ""}
    mailbox = message.mailbox
    campaign = message.enrollment.campaign
    name = (mailbox.from_name if mailbox else "") or campaign.sender_name
    company = campaign.sender_company
    sender = f"{name} ({company})" if name and company and company != name else name or company
    return {"sender": sender or "this sender", "address": address_masked(address)}
