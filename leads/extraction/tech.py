"""Technology fingerprints: what a site's scripts, styles and meta tags say it runs on."""

from __future__ import annotations

import re

from leads.extraction.page import Page
from leads.extraction.types import ExtractedValue

# name -> pattern matched against script src, link href, meta generator and inline scripts.
FINGERPRINTS: dict[str, str] = {
    "Google Analytics": r"google-analytics\.com/(?:analytics|ga)\.js|gtag/js\?id=G-|\bgtag\(",
    "Google Tag Manager": r"googletagmanager\.com/gtm\.js|GTM-[A-Z0-9]{4,}",
    "Segment": r"cdn\.segment\.com|analytics\.load\(",
    "HubSpot": r"js\.hs-scripts\.com|js\.hsforms\.net|hs-analytics\.net|hubspot\.com",
    "Marketo": r"munchkin\.marketo\.net|marketo\.com",
    "Salesforce Pardot": r"pi\.pardot\.com|pardot\.com",
    "Intercom": r"widget\.intercom\.io|intercomcdn\.com|Intercom\(",
    "Drift": r"js\.driftt\.com|drift\.com/include",
    "Zendesk": r"static\.zdassets\.com|zendesk\.com",
    "Hotjar": r"static\.hotjar\.com|hotjar\.com",
    "Mixpanel": r"cdn\.mxpnl\.com|mixpanel\.com",
    "Amplitude": r"cdn\.amplitude\.com|amplitude\.com/libs",
    "Stripe": r"js\.stripe\.com",
    "Shopify": r"cdn\.shopify\.com|Shopify\.theme",
    "WordPress": r"wp-content/|wp-includes/|generator[^>]*WordPress",
    "Webflow": r"webflow\.com|data-wf-(?:page|site)|generator[^>]*Webflow",
    "Wix": r"static\.wixstatic\.com|wix\.com",
    "Squarespace": r"squarespace\.com|static1\.squarespace",
    "Next.js": r"/_next/static/|__NEXT_DATA__",
    "Nuxt": r"/_nuxt/|__NUXT__",
    "Gatsby": r"/page-data/|___gatsby",
    "React": r"react(?:-dom)?(?:\.production)?(?:\.min)?\.js|data-reactroot",
    "Vue.js": r"vue(?:\.runtime)?(?:\.global)?(?:\.prod)?(?:\.min)?\.js|data-v-[0-9a-f]{6,}",
    "Angular": r"angular(?:\.min)?\.js|ng-version=",
    "jQuery": r"jquery[.-](?:\d[\d.]*)?(?:\.min)?\.js|jquery\.min\.js",
    "Cloudflare": r"cdnjs\.cloudflare\.com|cloudflareinsights\.com|/cdn-cgi/",
    "Optimizely": r"cdn\.optimizely\.com",
    "LinkedIn Insight": r"snap\.licdn\.com|_linkedin_partner_id",
    "Facebook Pixel": r"connect\.facebook\.net/[^\"']*/fbevents\.js|fbq\(",
    "Calendly": r"assets\.calendly\.com|calendly\.com/",
    "Greenhouse": r"boards\.greenhouse\.io|greenhouse\.io/embed",
    "Lever": r"jobs\.lever\.co|lever\.co/",
    "Workable": r"apply\.workable\.com|workable\.com",
    "Ashby": r"jobs\.ashbyhq\.com|ashbyhq\.com",
    "BambooHR": r"bamboohr\.com",
    "Sentry": r"browser\.sentry-cdn\.com|sentry\.io",
    "Datadog RUM": r"datadoghq-browser-agent|datadog-rum",
    "New Relic": r"js-agent\.newrelic\.com|NREUM",
    "Vercel": r"vercel-insights|/_vercel/",
    "Netlify": r"netlify(?:\.app|-identity)",
    "Algolia": r"algolia(?:net|search)|cdn\.jsdelivr\.net/npm/algoliasearch",
    "Salesforce": r"force\.com|salesforce\.com/",
}
_COMPILED = [(name, re.compile(pattern, re.I)) for name, pattern in FINGERPRINTS.items()]
# Only the markup that names technologies is scanned, not the whole text of the page.
MAX_SCAN = 400_000


def extract_tech(page: Page) -> list[ExtractedValue]:
    markers = []
    for tag in page.soup.find_all(["script", "link"]):
        reference = tag.get("src") or tag.get("href")
        markers.append(reference if reference else (tag.string or "")[:5000])
    markers.append(f"generator {page.meta('generator')}")
    html_attrs = page.soup.html.attrs if page.soup.html else {}
    markers.append(" ".join(f"{k}={v}" for k, v in html_attrs.items()))
    haystack = "\n".join(markers)[:MAX_SCAN]
    out = []
    for name, pattern in _COMPILED:
        match = pattern.search(haystack)
        if match:
            evidence = haystack[max(0, match.start() - 60) : match.end() + 60].replace("\n", " ")
            out.append(ExtractedValue("tech", name, evidence.strip()[:300], 0.8, "tech"))
    return out
