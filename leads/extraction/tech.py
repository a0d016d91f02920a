"""Technology fingerprints: what a site's scripts, styles, embeds and meta tags say it runs."""

from __future__ import annotations

import re

from leads.extraction.page import Page
from leads.extraction.text import clean
from leads.extraction.tree import text
from leads.extraction.types import ExtractedValue, Found

# name -> pattern over the page's markers: script src and inline code, link href, iframe
# src, "generator <meta generator>", the <html> attributes and "id=<id>" of elements.
# Hosts are the vendors' own CDNs and endpoints, so a plain link to a vendor's site (a
# blog post about HubSpot) does not count.
FINGERPRINTS: dict[str, str] = {
    # analytics and product analytics
    "Google Analytics": r"google-analytics\.com/(?:analytics|ga|urchin)\.js"
    r"|googletagmanager\.com/gtag/js\?id=(?:G|UA)-|\bgtag\(\s*['\"]config['\"]\s*,\s*['\"](?:G|UA)-",
    "Google Tag Manager": r"googletagmanager\.com/gtm\.js|\bGTM-[A-Z0-9]{4,}\b",
    "Google Ads": r"googleadservices\.com|gtag/js\?id=AW-|\bAW-\d{6,}",
    "Segment": r"cdn\.segment\.(?:com|io)|segment\.com/analytics\.js",
    "Mixpanel": r"cdn\.mxpnl\.com|\bmixpanel\.init\(",
    "Amplitude": r"cdn\.amplitude\.com|\bamplitude\.getInstance\(|@amplitude/",
    "Heap": r"cdn\.heapanalytics\.com|\bheap\.load\(",
    "Hotjar": r"static\.hotjar\.com|\b_hjSettings\b",
    "FullStory": r"fullstory\.com/s/fs\.js|\b_fs_org\b",
    "Plausible": r"plausible\.io/js",
    # marketing automation, ads and consent
    "HubSpot": r"js\.hs-scripts\.com|js\.hsforms\.net|js\.hs-analytics\.net|js\.hubspot\.com",
    "Marketo": r"munchkin\.marketo\.net|\bMunchkin\.init\(|marketo\.com/js/forms2",
    "Salesforce Pardot": r"pi\.pardot\.com|go\.pardot\.com|\bpiAId\b",
    "Salesforce": r"\.my\.salesforce\.com|\.force\.com/|salesforceliveagent\.com",
    "LinkedIn Insight": r"snap\.licdn\.com/li\.lms-analytics|\b_linkedin_partner_id\b",
    "Facebook Pixel": r"connect\.facebook\.net/[\w-]+/fbevents\.js|\bfbq\(\s*['\"]init",
    "Clearbit": r"tag\.clearbitscripts\.com|reveal\.clearbit\.com",
    "6sense": r"j\.6sc\.co/",
    "Mutiny": r"mutinycdn\.com",
    "Optimizely": r"cdn\.optimizely\.com|logx\.optimizely\.com",
    "VWO": r"visualwebsiteoptimizer\.com|\b_vwo_code\b",
    "Cookiebot": r"consent\.cookiebot\.com",
    "OneTrust": r"cdn\.cookielaw\.org|\bOptanonWrapper\b",
    # chat, scheduling and support
    "Intercom": r"widget\.intercom\.io|js\.intercomcdn\.com|\bintercomSettings\b",
    "Drift": r"js\.driftt\.com|\bdrift\.load\(",
    "Zendesk": r"static\.zdassets\.com|ekr\.zdassets\.com",
    "Crisp": r"client\.crisp\.chat",
    "LiveChat": r"cdn\.livechatinc\.com",
    "Calendly": r"assets\.calendly\.com|calendly\.com/assets/external",
    "Chili Piper": r"js\.chilipiper\.com|\bChiliPiper\.",
    "Typeform": r"embed\.typeform\.com",
    # payments and commerce
    "Stripe": r"js\.stripe\.com",
    "Shopify": r"cdn\.shopify\.com|\bShopify\.theme\b",
    # site builders and CMSs
    "WordPress": r"/wp-content/|/wp-includes/|generator WordPress",
    "Webflow": r"assets\.website-files\.com|\bwebflow\.js|\bdata-wf-(?:page|site)"
    r"|generator Webflow",
    "Wix": r"static\.wixstatic\.com|static\.parastorage\.com|generator Wix",
    "Squarespace": r"static1\.squarespace\.com|assets\.squarespace\.com|generator Squarespace",
    "HubSpot CMS": r"generator HubSpot|\.hubspotusercontent-?\w*\.net",
    # front-end frameworks and libraries
    "Next.js": r"/_next/static/|\b__NEXT_DATA__\b|\bid=__next\b",
    "Nuxt": r"/_nuxt/|\b__NUXT__\b|\bid=__nuxt\b",
    "Gatsby": r"/page-data/|\bid=___gatsby\b|generator Gatsby",
    "React": r"\breact(?:-dom)?(?:\.production)?(?:\.min)?\.js|\bdata-reactroot\b",
    "Vue.js": r"\bvue(?:\.runtime)?(?:\.global)?(?:\.prod)?(?:\.min)?\.js|\bdata-v-app\b",
    "Angular": r"\bangular(?:\.min)?\.js|\bng-version=|@angular/",
    "jQuery": r"\bjquery(?:[.-]\d[\d.]*)?(?:\.slim)?(?:\.min)?\.js|code\.jquery\.com",
    "Bootstrap": r"\bbootstrap(?:\.bundle)?(?:\.min)?\.(?:js|css)\b",
    "Algolia": r"\balgoliasearch\b|\.algolia(?:net)?\.(?:net|com)|\bdocsearch(?:\.min)?\.js",
    "Google Fonts": r"fonts\.googleapis\.com",
    "Font Awesome": r"(?:use|kit)\.fontawesome\.com|\bfont-?awesome(?:\.min)?\.css",
    "reCAPTCHA": r"google\.com/recaptcha|recaptcha\.net",
    # hosting, CDN and monitoring
    "Cloudflare": r"/cdn-cgi/|cloudflareinsights\.com|cdnjs\.cloudflare\.com",
    "Vercel": r"/_vercel/insights|vercel-insights\.com|va\.vercel-scripts\.com",
    "Netlify": r"netlify-identity-widget|\.netlify\.app\b",
    "Sentry": r"(?:browser|js)\.sentry-cdn\.com|\bSentry\.init\(|ingest\.sentry\.io",
    "Datadog RUM": r"datadoghq-browser-agent\.com|\bDD_RUM\b",
    "New Relic": r"js-agent\.newrelic\.com|\bNREUM\b|bam\.nr-data\.net",
    # hiring (also a careers hint: the roles live on the ATS)
    "Greenhouse": r"boards\.greenhouse\.io|job-boards\.greenhouse\.io|greenhouse\.io/embed",
    "Lever": r"jobs\.lever\.co|api\.lever\.co",
    "Workable": r"apply\.workable\.com|\bwhr_embed\b",
    "Ashby": r"jobs\.ashbyhq\.com",
    "BambooHR": r"\.bamboohr\.com",
}
ATS = ("Greenhouse", "Lever", "Workable", "Ashby", "BambooHR")
COMPILED = [(name, re.compile(pattern, re.I)) for name, pattern in FINGERPRINTS.items()]
MAX_INLINE = 5_000  # characters read from each inline script: markers sit at the top
MAX_MARKERS = 400_000
MIN_NEEDLE = 3
# The only characters outside ASCII that re.IGNORECASE matches to ASCII letters and
# digits (checked over all of Unicode): folded to them before the needle test.
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u212a": "k", "\u017f": "s"})


def needles(pattern: str) -> tuple[str, ...] | None:
    """Lowercase strings one of which must be in any text the pattern matches: the
    longest run of plain characters of each alternative. None when an alternative has no
    run of MIN_NEEDLE characters; the pattern is then always searched.

    The compiled patterns are all IGNORECASE and most of them have no literal prefix, so
    re scans every position of the markers (about 8 MB/s); 60 of them cost seven bare
    parses a page. `in` on the lowercased markers costs a few microseconds, and only a
    page that holds a needle pays the pattern's real search."""
    tree = re._parser.parse(pattern, re.I)  # type: ignore[attr-defined]  # no public parser
    items = list(tree)
    branches = (
        items[0][1][1] if len(items) == 1 and items[0][0] == re._constants.BRANCH else [items]  # type: ignore[attr-defined]
    )
    found = []
    for branch in branches:
        runs, run = [], ""
        for op, value in branch:
            if op == re._constants.LITERAL:  # type: ignore[attr-defined]
                run += chr(value)
            else:
                runs.append(run)
                run = ""
        best = max([*runs, run], key=len)
        if len(best) < MIN_NEEDLE:
            return None
        found.append(best.lower())
    return tuple(found)


_NEEDLED = [(name, compiled, needles(compiled.pattern)) for name, compiled in COMPILED]


def detect(haystack: str) -> list[tuple[str, re.Match[str]]]:
    """(name, first match) for every fingerprint in the markers, in FINGERPRINTS order;
    the same matches as searching every pattern, found at a fraction of the cost."""
    lowered = haystack.translate(_FOLD).lower()
    found = []
    for name, pattern, wanted in _NEEDLED:
        if wanted is not None and not any(needle in lowered for needle in wanted):
            continue
        match = pattern.search(haystack)
        if match:
            found.append((name, match))
    return found


def technologies(page: Page) -> tuple[str, list[tuple[str, re.Match[str]]]]:
    """The page's markers and the fingerprints found in them, computed once a page (the
    careers extractor asks again for the ATS)."""
    if "tech" not in page.memo:
        haystack = markers(page)
        page.memo["tech"] = (haystack, detect(haystack))
    found: tuple[str, list[tuple[str, re.Match[str]]]] = page.memo["tech"]
    return found


def extract(page: Page) -> Found:
    haystack, found = technologies(page)
    values = [
        ExtractedValue("tech", name, _marker(haystack, match), 0.8, "tech") for name, match in found
    ]
    return Found(values=values)


def _marker(haystack: str, match: re.Match[str]) -> str:
    """The one marker (a script URL, a generator) the match is in, around the match."""
    start = max(haystack.rfind("\n", 0, match.start()) + 1, match.start() - 120)
    end = haystack.find("\n", match.end())
    return clean(haystack[start : min(end if end != -1 else len(haystack), match.end() + 120)])


def markers(page: Page) -> str:
    """Everything on the page that names a technology, one marker a line."""
    found = []
    for tag in page.find("script", "link", "iframe"):
        reference = tag.get("src") or tag.get("href")
        found.append(str(reference) if reference else text(tag)[:MAX_INLINE])
    found.append(f"generator {page.meta('generator')}")
    html = page.find("html")
    if html:
        found.append(" ".join(f"{k}={_attribute(k, v)}" for k, v in html[0].attrib.items()))
    found += [f"id={i}" for i in page.ids if i.startswith("__")]  # __next, ___gatsby
    return "\n".join(found)[:MAX_MARKERS]


def _attribute(key: str, value: str) -> object:
    # As the markers were first written, from BeautifulSoup's attributes: the
    # space-separated ones as lists of words ("class=['a', 'b']").
    return value.split() if key in ("class", "accesskey", "dropzone") else value
