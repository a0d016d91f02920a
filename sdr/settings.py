"""Settings, read from the environment.

With nothing set, the project runs as the zero-setup demo: SQLite, eager Celery tasks,
the offline drafter, email to the console. Production sets DEBUG=false and must then
provide every secret, or the process refuses to start.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from sdr.env import (
    env_bool,
    env_float,
    env_int,
    env_json,
    env_list,
    env_networks,
    env_str,
    require_in_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

# Secrets: development defaults only while DEBUG is on.
_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY") or ""
require_in_production("SECRET_KEY", SECRET_KEY, debug=DEBUG)
SECRET_KEY = SECRET_KEY or _DEV_SECRET_KEY

FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY") or ""
require_in_production("FIELD_ENCRYPTION_KEY", FIELD_ENCRYPTION_KEY, debug=DEBUG)
if not FIELD_ENCRYPTION_KEY:
    # A stable development key derived from the development secret, so the demo database
    # stays readable across restarts. Never used when DEBUG is off (checked above).
    FIELD_ENCRYPTION_KEY = base64.urlsafe_b64encode(
        hashlib.sha256(("field-encryption:" + SECRET_KEY).encode()).digest()
    ).decode()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
if not DEBUG and not env_str("ALLOWED_HOSTS"):
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set. It is required when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sdr",
    "leads",
    "outreach",
    "billing",
    "ranking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Response headers first, so every response carries them, refusals and static files
    # included.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sdr.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL bytes, lone surrogates, oversized JSON: refused before anything reads them.
    "sdr.edge.BadInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sdr.tenancy.CurrentWorkspaceMiddleware",
    # After authentication: a repeated key is matched to who sent it.
    "sdr.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "sdr.urls"
WSGI_APPLICATION = "sdr.wsgi.application"
ASGI_APPLICATION = "sdr.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sdr.tenancy.workspace_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'demo.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo's worker thread writes while requests read and write: readers never wait
    # for a writer (WAL), a writer waits its turn instead of failing at once, and a
    # transaction takes the write lock when it starts, not halfway (which SQLite answers
    # with "database is locked" rather than waiting).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
# Row-level security (sdr/rls.py): the role the web and the workers act as (owns no table,
# does not bypass row-level security), and the role of the few cross-workspace jobs. A
# process that logs in as the app role itself leaves DATABASE_ROLE empty; one that logs
# in as another user (the test suite, as postgres) names it, and every connection takes
# it with SET ROLE. `manage.py db_roles` creates both.
DATABASE_ROLE = env_str("DATABASE_ROLE") or ""
DATABASE_CROSS_WORKSPACE_ROLE = env_str("DATABASE_CROSS_WORKSPACE_ROLE") or ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 24 * 14, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a TLS-terminating proxy (the usual production setup), trust its scheme header so
# secure cookies and redirects work; HSTS once the site is known to be HTTPS only.
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Plain HTTP is redirected to HTTPS in production; the health check stays reachable over
# plain HTTP for load balancers that probe that way.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
# Links out of the product (a lead's LinkedIn, a company's website) carry no path of ours.
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sdr.auth.WorkspaceAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["sdr.auth.HasWorkspace"],
    "DEFAULT_PAGINATION_CLASS": "sdr.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 50,
    # The error responses every operation can give, in the one error shape.
    "DEFAULT_SCHEMA_CLASS": "sdr.schema.ApiSchema",
    # The API speaks JSON. Form encodings are not offered: they cannot carry the nested
    # bodies (sequence steps, custom fields), and Django's form parsing limits would surface
    # as server errors. Uploads (CSV imports) add multipart where they need it.
    "DEFAULT_PARSER_CLASSES": ["sdr.parsers.JSONInputParser"],
    # And answers in JSON only. DRF's browsable pages drew the web UI's templates, whose
    # workspace menu asks for a person: an API key's `?format=api` was a server error. The
    # documentation is at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "sdr.errors.api_exception_handler",
    # Per API key, a token bucket (sdr/throttling.py); 429 with Retry-After past it.
    "DEFAULT_THROTTLE_CLASSES": ["sdr.throttling.ApiKeyRate"],
    "DEFAULT_THROTTLE_RATES": {},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AI SDR API",
    "DESCRIPTION": (
        "CRM sync API. Authenticate with `Authorization: Api-Key <key>`. Every error has the "
        'shape `{"error": {"code", "message", "details"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Group operations by resource (companies, leads, ...) rather than under "api".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Lead.Status",
        "ImportStatusEnum": "leads.models.ImportJob.Status",
        "CampaignStatusEnum": "outreach.models.Campaign.Status",
        "EnrollmentStatusEnum": "outreach.models.Enrollment.Status",
        "MessageStatusEnum": "outreach.models.Message.Status",
        "SuppressionKindEnum": "leads.models.Suppression.Kind",
        "SuppressionSourceEnum": "leads.models.Suppression.Source",
        "OutcomeKindEnum": "outreach.models.Outcome.Kind",
        "OutcomeSourceEnum": "outreach.models.Outcome.Source",
        "StepKindEnum": "outreach.models.SequenceStep.Kind",
        "MailboxStatusEnum": "outreach.models.Mailbox.Status",  # s2: mailboxes
        "MailboxSecurityEnum": "outreach.models.Mailbox.Security",  # s2: mailboxes
        "WebhookStatusEnum": "sdr.models.WebhookEndpoint.Status",
        "WebhookDeliveryStatusEnum": "sdr.models.WebhookDelivery.Status",
    },
    # What a registered endpoint receives (docs/sync.md), as `x-webhooks`.
    "WEBHOOKS": ["sdr.webhooks_api.activity_webhook"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sdr.webhooks_api.webhooks_in_schema",
        "sdr.schema.links_in_schema",
    ],
    # The docs page's scripts come from our static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. Without a broker URL tasks run eagerly in-process (the demo).
_BROKER_URL = env_str("CELERY_BROKER_URL") or ""
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not _BROKER_URL)
# Eager with no broker: the in-memory transport, so nothing ever reaches for a default
# broker on localhost.
CELERY_BROKER_URL = _BROKER_URL or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it finished, and each worker process reserves one task
# at a time: a worker that dies mid-task hands the task to another instead of losing it.
# That is safe because every task claims its row before acting (see STYLE.md, habit 5).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=2)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Leases (sdr/states.py): how long a claimed row may go without word from its worker before
# the sweeper takes it back. Research and drafting run in one task and never renew, so
# their lease must outlast the task's hard time limit, or a slow but live task would be
# swept and run a second time. An import renews its lease with every batch it commits, so
# its lease only has to outlast one batch; no batch outlives the hard limit either.
LEASE_ENRICH_SECONDS = env_int("LEASE_ENRICH_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
LEASE_DRAFT_SECONDS = env_int("LEASE_DRAFT_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
LEASE_IMPORT_SECONDS = env_int("LEASE_IMPORT_SECONDS", CELERY_TASK_TIME_LIMIT, minimum=1)
for _name, _lease in [
    ("LEASE_ENRICH_SECONDS", LEASE_ENRICH_SECONDS),
    ("LEASE_DRAFT_SECONDS", LEASE_DRAFT_SECONDS),
]:
    if _lease <= CELERY_TASK_TIME_LIMIT:
        raise ImproperlyConfigured(
            f"{_name} ({_lease}) must be longer than CELERY_TASK_TIME_LIMIT "
            f"({CELERY_TASK_TIME_LIMIT}): a task still running would lose its row."
        )
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Must exceed the longest task, or Redis redelivers a task that is still running.
    "visibility_timeout": CELERY_TASK_TIME_LIMIT * 2,
}
CELERY_TASK_QUEUES = [
    Queue("default"),
    Queue("enrich"),
    Queue("enrich_now"),  # research a person asked for ("Enrich now"), ahead of the backlog
    Queue("draft"),
    Queue("send"),
    Queue("ingest"),
    Queue("billing"),
]
CELERY_TASK_DEFAULT_QUEUE = "default"
# Task names start with the kind of work, so routing is one table and never drifts.
CELERY_TASK_ROUTES = {
    "enrich.*": {"queue": "enrich"},
    "draft.*": {"queue": "draft"},
    "send.*": {"queue": "send"},
    "ingest.*": {"queue": "ingest"},
    "billing.*": {"queue": "billing"},
}
# The whole periodic schedule, in one place. Later work adds its entries here.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "sdr.clear-expired-sessions": {
        "task": "sdr.clear_expired_sessions",
        "schedule": 60 * 60 * 6,
    },
    # Rows whose worker died go back to work; queued rows whose hint was lost are sent
    # again. A sweep not started within the minute is dropped: the next one does its job.
    "sdr.sweep": {"task": "sdr.sweep", "schedule": 60, "options": {"expires": 55}},
}

# The safe fetcher (sdr/fetch.py): every outbound request of the product.
FETCH_USER_AGENT = env_str(
    "FETCH_USER_AGENT",
    "SDRResearchBot/1.0 (+https://sdr.example/bot; company research for B2B outreach)",
)
FETCH_CONNECT_TIMEOUT = env_float("FETCH_CONNECT_TIMEOUT", 5.0, minimum=0.1)
FETCH_READ_TIMEOUT = env_float("FETCH_READ_TIMEOUT", 10.0, minimum=0.1)
FETCH_TOTAL_TIMEOUT = env_float("FETCH_TOTAL_TIMEOUT", 20.0, minimum=0.1)
FETCH_MAX_BYTES = env_int("FETCH_MAX_BYTES", 2 * 1024 * 1024, minimum=1024)
FETCH_MAX_PAGES_PER_DOMAIN = env_int("FETCH_MAX_PAGES_PER_DOMAIN", 25, minimum=1)
FETCH_POLITENESS_DELAY = env_float("FETCH_POLITENESS_DELAY", 1.0, minimum=0)
FETCH_MAX_REDIRECTS = env_int("FETCH_MAX_REDIRECTS", 5, minimum=0)
# Non-public networks the fetcher may reach anyway: none unless set, DEBUG or not, so a
# plain `runserver` or gunicorn refuses loopback like production. The demo commands allow
# loopback in their own process (sdr/management/commands/seed_demo.py), the tests in theirs.
FETCH_ALLOWED_NETWORKS = env_networks("FETCH_ALLOWED_NETWORKS", [])

# The demo serves its sample company sites on loopback ports from here up.
DEMO_SITES_PORT = env_int("DEMO_SITES_PORT", 8101, minimum=1024)
ENRICH_REFRESH_DAYS = env_int("ENRICH_REFRESH_DAYS", 30, minimum=1)
CELERY_BEAT_SCHEDULE["enrich.refresh-stale"] = {
    "task": "enrich.refresh_stale",
    "schedule": 60 * 60,
}
# The ranking re-scores every lead once a night (outcomes re-score as they arrive).
CELERY_BEAT_SCHEDULE["ranking.nightly-rescore"] = {
    "task": "ranking.nightly_rescore",
    "schedule": crontab(hour=3, minute=15),
}

# The LLM (sdr/llm.py): any OpenAI-compatible endpoint. Without a base URL the product
# drafts with the built-in offline drafter.
LLM_BASE_URL = env_str("LLM_BASE_URL") or ""
LLM_API_KEY = env_str("LLM_API_KEY") or ""
LLM_MODELS = {
    "drafting": env_str("LLM_MODEL_DRAFTING", "gpt-4.1-mini"),
    "checking": env_str("LLM_MODEL_CHECKING", "gpt-4.1-mini"),
    "classification": env_str("LLM_MODEL_CLASSIFICATION", "gpt-4.1-nano"),
}
# Non-public networks a workspace's own model endpoint may be on (sdr/workspace_settings.py):
# none by default, like research, mailboxes and webhooks.
LLM_ALLOWED_NETWORKS = env_networks("LLM_ALLOWED_NETWORKS", [])
LLM_TIMEOUT = env_float("LLM_TIMEOUT", 30.0, minimum=0.1)
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2, minimum=0)
LLM_TEMPERATURE = env_float("LLM_TEMPERATURE", 0.4, minimum=0.0)
LLM_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 1200, minimum=16)
# USD per million tokens: input, cached input, output. A typed local table (not fetched),
# overridable with LLM_PRICES_JSON for other providers and models.
LLM_PRICES = env_json(
    "LLM_PRICES_JSON",
    {
        "gpt-4.1": {"input": 2.00, "cached_input": 0.50, "output": 8.00},
        "gpt-4.1-mini": {"input": 0.40, "cached_input": 0.10, "output": 1.60},
        "gpt-4.1-nano": {"input": 0.10, "cached_input": 0.025, "output": 0.40},
        "gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.60},
    },
)
# type(), not isinstance(): JSON true and false would pass as the numbers 1 and 0.
_BAD_PRICES = [
    model
    for model, prices in LLM_PRICES.items()
    if not all(
        type(prices.get(kind, 0)) in (int, float) and prices.get(kind, 0) >= 0
        for kind in ("input", "cached_input", "output")
    )
]
if _BAD_PRICES:
    raise ImproperlyConfigured(
        "LLM_PRICES_JSON: prices must be numbers of USD per million tokens, "
        f"not negative; check {', '.join(_BAD_PRICES)}."
    )

HEALTHZ_BROKER_TIMEOUT = env_float("HEALTHZ_BROKER_TIMEOUT", 2.0, minimum=0.1)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The product's own notices to workspace owners (sdr/notify.py), not campaign email.
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "notifications@localhost")

# Outbound webhooks (sdr/webhooks.py). Endpoint hosts are vetted like research URLs;
# non-public networks only as set (none by default; the demo allows loopback, as above).
# HTTPS is required unless DEBUG.
WEBHOOK_ALLOWED_NETWORKS = env_networks("WEBHOOK_ALLOWED_NETWORKS", [])
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not DEBUG)
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10.0, minimum=0.1)
# After this long of failed attempts an endpoint is disabled and its owners told.
WEBHOOK_GIVE_UP_SECONDS = env_int("WEBHOOK_GIVE_UP_SECONDS", 24 * 60 * 60, minimum=60)
# How long one task sends an endpoint's deliveries before handing over to the next pass.
WEBHOOK_DELIVER_BUDGET_SECONDS = env_float("WEBHOOK_DELIVER_BUDGET_SECONDS", 20.0, minimum=0.1)
WEBHOOK_USER_AGENT = "SDR-Webhooks/1.0"

# Rate limits (sdr/ratelimit.py). API requests per key: a sustained rate and a burst.
API_RATE_PER_MINUTE = env_int("API_RATE_PER_MINUTE", 600, minimum=1)
API_RATE_BURST = env_int("API_RATE_BURST", 120, minimum=1)
# Failed API authentications per client address: past it, 429 before the key is checked.
API_AUTH_FAILURES_PER_MINUTE = env_int("API_AUTH_FAILURES_PER_MINUTE", 10, minimum=1)
API_AUTH_FAILURES_BURST = env_int("API_AUTH_FAILURES_BURST", 20, minimum=1)
# Failed sign-ins: per account and per address, with a lockout that says when to retry.
SIGN_IN_FAILURES_PER_ACCOUNT = env_int("SIGN_IN_FAILURES_PER_ACCOUNT", 5, minimum=1)
SIGN_IN_FAILURES_PER_ADDRESS = env_int("SIGN_IN_FAILURES_PER_ADDRESS", 20, minimum=1)
# A failure is forgiven after this long (the bucket refills one token per window/limit).
SIGN_IN_FAILURE_WINDOW_SECONDS = env_int("SIGN_IN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=1)

# Idempotency-Key on API POSTs (sdr/idempotency.py): answers are kept this long (the
# contract says at least a day), and a request still "running" after STALE seconds (its
# worker died) may be run again.
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 48, minimum=24)
IDEMPOTENCY_STALE_SECONDS = env_int("IDEMPOTENCY_STALE_SECONDS", 120, minimum=10)
CELERY_BEAT_SCHEDULE["sdr.expire-idempotency-records"] = {
    "task": "sdr.expire_idempotency_records",
    "schedule": 60 * 60,
}
CELERY_BEAT_SCHEDULE["webhooks.pump"] = {
    "task": "webhooks.pump",
    "schedule": 5,
    # A pump not started within its period is dropped: the next one does its job.
    "options": {"expires": 4},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # httpx logs every request with its URL at INFO; ours log what matters.
        "httpx": {"level": "WARNING"},
        # The openai SDK's transport, likewise: a workspace's endpoint URL may carry a key.
        "httpx2": {"level": "WARNING"},
    },
}

# Sending (outreach/smtp.py, outreach/sending.py).
SMTP_TIMEOUT = env_float("SMTP_TIMEOUT", 20.0, minimum=0.1)
# Non-public networks a mailbox host may be on anyway: none unless set (the demo allows
# loopback for its mailbox, as above).
MAILBOX_ALLOWED_NETWORKS = env_networks("MAILBOX_ALLOWED_NETWORKS", [])

# Auto-send (outreach/campaigns.py): the smallest share of drafts a person still reviews.
AUTO_SEND_MIN_REVIEW_SHARE = env_float("AUTO_SEND_MIN_REVIEW_SHARE", 0.05, minimum=0.0)

# Review (outreach/review.py): an approved message waits this long before the dispatcher
# may send it, so that "Undo" can take it back. 0 turns the window off.
APPROVAL_GRACE_SECONDS = env_int("APPROVAL_GRACE_SECONDS", 120, minimum=0)

# Dispatching and sequences (outreach/dispatch.py, outreach/sequences.py).
# A pass queues a message only if its mailbox's spacing lets it go within this many
# seconds; later ones wait for the next pass. Kept under the sweeper's requeue delay
# (5 min), which would otherwise hint a queued message before its slot, and under the
# Redis visibility timeout, past which a countdown task is delivered twice (harmless: the
# send claims first, but wasteful).
DISPATCH_HORIZON_SECONDS = env_int("DISPATCH_HORIZON_SECONDS", 240, minimum=1)
# A finished sequence without a reply records a "no response" outcome this many days on.
NO_RESPONSE_AFTER_DAYS = env_int("NO_RESPONSE_AFTER_DAYS", 7, minimum=0)
CELERY_BEAT_SCHEDULE["send.dispatch_due"] = {
    "task": "send.dispatch_due",
    "schedule": 60,
    # A pass not started within the minute is dropped: the next one does its job.
    "options": {"expires": 55},
}
# Sequences a killed send worker left without their next step (sequence_advance.py).
CELERY_BEAT_SCHEDULE["send.repair_sequences"] = {
    "task": "send.repair_sequences",
    "schedule": 60 * 5,
    "options": {"expires": 60 * 4},
}
# Interrupted sends looked for in their mailbox's Sent folder (outreach/unknown.py).
CELERY_BEAT_SCHEDULE["send.check_unknown"] = {
    "task": "send.check_unknown",
    "schedule": 60 * 10,
    "options": {"expires": 60 * 9},
}
CELERY_BEAT_SCHEDULE["send.record_no_response"] = {
    "task": "send.record_no_response",
    "schedule": 60 * 60 * 24,
}

# Sending, part two (outreach/sending.py, outreach/mime.py, outreach/unsubscribe.py).
# The public address of this service: the one-click unsubscribe link in every email is
# built from it, so production must say what it is (and it must be https: RFC 8058).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL") or ""
require_in_production("PUBLIC_BASE_URL", PUBLIC_BASE_URL, debug=DEBUG)
PUBLIC_BASE_URL = (PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
_public_schemes = ["https"] if not DEBUG else ["https", "http"]
_public_scheme, _, _public_host = PUBLIC_BASE_URL.partition("://")
if (
    _public_scheme not in _public_schemes
    or not _public_host
    or any(c in _public_host for c in "/?#@ ")
):
    raise ImproperlyConfigured(
        f"PUBLIC_BASE_URL must be an {' or '.join(_public_schemes)} URL with a host and no "
        f"path, such as https://sdr.example.com; not {PUBLIC_BASE_URL!r}."
    )
# Where sent email goes: "smtp" (the mailbox's server) or "console" (printed, recorded as
# sent). The zero-setup demo (DEBUG, no broker, no DATABASE_URL) prints; everything else,
# the tests included, speaks SMTP unless told otherwise.
EMAIL_DELIVERY = env_str(
    "EMAIL_DELIVERY",
    "console" if DEBUG and not _BROKER_URL and not env_str("DATABASE_URL") else "smtp",
)
if EMAIL_DELIVERY not in ("smtp", "console"):
    raise ImproperlyConfigured(f"EMAIL_DELIVERY must be smtp or console, not {EMAIL_DELIVERY!r}.")
# A send that fails for a reason that may pass (4xx, a dropped connection before the
# message was handed over) is tried again after SEND_RETRY_BASE_SECONDS, doubling, with
# jitter, up to SEND_MAX_ATTEMPTS attempts in all.
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 5, minimum=1)
SEND_RETRY_BASE_SECONDS = env_int("SEND_RETRY_BASE_SECONDS", 30, minimum=1)
SEND_RETRY_MAX_SECONDS = env_int("SEND_RETRY_MAX_SECONDS", 30 * 60, minimum=1)
# A server that cannot be reached at all or answers 421 (an outage, a rate limit) is
# waited out this long after the message was queued, trying every SEND_RETRY_MAX_SECONDS
# at most, before it fails.
SEND_UNREACHABLE_GIVE_UP_HOURS = env_int("SEND_UNREACHABLE_GIVE_UP_HOURS", 24, minimum=1)
# A send runs in one task and never renews its lease: the lease must outlast the task's
# hard time limit, or a slow but live send would be swept to "unknown".
LEASE_SEND_SECONDS = env_int("LEASE_SEND_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
if LEASE_SEND_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"LEASE_SEND_SECONDS ({LEASE_SEND_SECONDS}) must be longer than CELERY_TASK_TIME_LIMIT "
        f"({CELERY_TASK_TIME_LIMIT}): a send still running would be marked unknown."
    )

# Replies in (outreach/replies/ingest.py, imap.py, webhook.py).
# A raw message over this size is kept only in part (its first bytes: the headers), flagged
# unparseable with the reason, never dropped; the webhook answers 413 to one.
INBOUND_MAX_BYTES = env_int("INBOUND_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
# Parsing and handling one message run in one task that never renews its lease.
LEASE_INGEST_SECONDS = env_int("LEASE_INGEST_SECONDS", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
if LEASE_INGEST_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        f"LEASE_INGEST_SECONDS ({LEASE_INGEST_SECONDS}) must be longer than "
        f"CELERY_TASK_TIME_LIMIT ({CELERY_TASK_TIME_LIMIT}): a message still being read "
        "would be taken back and read twice."
    )
# A signed webhook request whose timestamp is further than this from our clock is refused:
# a captured request cannot be replayed later.
INBOUND_WEBHOOK_MAX_SKEW_SECONDS = env_int("INBOUND_WEBHOOK_MAX_SKEW_SECONDS", 300, minimum=1)
IMAP_TIMEOUT = env_float("IMAP_TIMEOUT", 30.0, minimum=0.1)
# Messages fetched per IMAP round trip; the mailbox's last UID advances after each batch.
IMAP_BATCH = env_int("IMAP_BATCH", 50, minimum=1)
# A mailbox's folder is first read from this many days before the mailbox was added, not
# from its first message years ago (outreach/replies/imap.py).
IMAP_FIRST_READ_DAYS = env_int("IMAP_FIRST_READ_DAYS", 14, minimum=0)
# A mailbox whose IMAP sign-in was refused is tried again this often, not at every poll.
IMAP_REFUSED_RETRY_SECONDS = env_int("IMAP_REFUSED_RETRY_SECONDS", 60 * 60, minimum=60)
CELERY_BEAT_SCHEDULE["ingest.poll_imap"] = {
    "task": "ingest.poll_imap",
    "schedule": 60,
    # A poll not started within the minute is dropped: the next one does its job.
    "options": {"expires": 55},
}

# Billing (billing/): Stripe through its SDK. Without a secret key billing is off: the
# ledger still records billable outcomes, nothing is sent to Stripe, the UI says so.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY") or ""
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET") or ""
if STRIPE_SECRET_KEY and not STRIPE_WEBHOOK_SECRET and not DEBUG:
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET is required when STRIPE_SECRET_KEY is set: subscription "
        "state and payment failures arrive only through signed webhooks."
    )
# Tests point the real SDK at a loopback server (tests/stripe_server.py) through this.
STRIPE_API_BASE = (env_str("STRIPE_API_BASE") or "https://api.stripe.com").rstrip("/")
STRIPE_CONNECT_TIMEOUT = env_float("STRIPE_CONNECT_TIMEOUT", 5.0, minimum=0.1)
STRIPE_TIMEOUT = env_float("STRIPE_TIMEOUT", 20.0, minimum=0.1)
# The SDK's own retries (same idempotency key) for connection errors, 409 and 5xx; the
# outbox retries further with backoff across task runs.
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2, minimum=0)
# A signed webhook older than this is refused (replay protection; Stripe's own default).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300, minimum=1)
# A meter event that failed this many times is marked failed for a person to look at.
BILLING_REPORT_MAX_ATTEMPTS = env_int("BILLING_REPORT_MAX_ATTEMPTS", 8, minimum=1)
CELERY_BEAT_SCHEDULE["billing.report_pending"] = {
    "task": "billing.report_pending",
    "schedule": 60,
    "options": {"expires": 55},
}
CELERY_BEAT_SCHEDULE["billing.reconcile"] = {
    "task": "billing.reconcile",
    "schedule": 60 * 60 * 24,
}
