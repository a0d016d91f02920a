"""The Content-Security-Policy every response carries.

The pages run only the scripts and styles served from our static files (htmx, the review
keys, the small app.js that replaced inline handlers): no inline script, no inline event
handler, no eval, no other origin. So a link or text that slips past the escaping (a
scraped `javascript:` URL, say) runs nothing. The other headers come from Django's own
settings: X-Content-Type-Options (SECURE_CONTENT_TYPE_NOSNIFF), Referrer-Policy
(SECURE_REFERRER_POLICY), X-Frame-Options (X_FRAME_OPTIONS); `frame-ancestors 'none'` is
the CSP spelling of the last for browsers that read it instead.

Why not django-csp: it is a dependency for about twenty lines here, and its value is
nonces and per-view policies, which a policy without inline code does not need. Django 6.0
has CSP built in (django.middleware.csp); this goes when the project moves to it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI's icons are data: SVGs
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
