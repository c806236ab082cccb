"""Memori settings: one file, every deploy-time knob read from the environment.

Defaults run the whole product on a fresh machine (SQLite file and a file-system Celery broker
under var/); production sets DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis or RabbitMQ).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from memori_site.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MEMORI_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for local use).")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "axes",
    "csp",
    "memory",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "dashboard.web.middleware.QueryValidationMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the "try again later" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "memori_site.urls"
WSGI_APPLICATION = "memori_site.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'memori.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the worker and the SDK read while one of them writes.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that the Celery worker processes the tests start see the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_memori.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The recall cache's covering index (memory_entity_fingerprints) includes the id as a non-key column on
# PostgreSQL; SQLite ignores INCLUDE and still gets the index on its key columns.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Login throttle (django-axes) ------------------------------------------------------------
# After MEMORI_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (even with the right password) for MEMORI_LOGIN_COOLOFF_MINUTES, on /login/ and
# /admin/login/; a success before the limit clears the count. Attempts are rows in the database,
# shared by every web worker; staff see and clear them in the admin ("Access attempts").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("MEMORI_LOGIN_THROTTLE", default=True)
AXES_FAILURE_LIMIT = env_int("MEMORI_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("MEMORI_LOGIN_COOLOFF_MINUTES", 15.0))
# "username+ip_address" locks that pair; "ip_address" or "username" alone lock more widely (comma: any of them).
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item for item in env_list("MEMORI_LOGIN_LOCKOUT_BY", ["username+ip_address"])
]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # attempts and lockouts are rows (admin), not log lines at every start
AXES_LOCKOUT_CALLABLE = "dashboard.web.lockout.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MEMORI_MAX_REQUEST_BYTES", 5 * 1024 * 1024)

# --- HTTPS and browser protections ----------------------------------------------------------
# MEMORI_HTTPS (default: on when DEBUG is off) says the site is served over HTTPS, normally by a
# reverse proxy that terminates TLS and sets X-Forwarded-Proto (it must overwrite any the client
# sent): plain-HTTP requests are redirected (except the health check, for load balancers), cookies
# are only sent over HTTPS, and browsers are told to use HTTPS only (HSTS). Each Django setting can
# also be set on its own by its name. Plain HTTP without DEBUG (a local trial): MEMORI_HTTPS=0.
HTTPS = env_bool("MEMORI_HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", HTTPS) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# Only ask for preloading if the domain is to be submitted to the browsers' preload lists.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every page: scripts only from this site's static files (no inline
# script, no eval: the vendored Plotly bundle needs neither), no framing, forms and fetches to this
# site only. Styles allow inline attributes because Plotly styles its SVG and injects its rules at
# run time. MEMORI_CSP_REPORT_ONLY=1 reports violations in the browser console without blocking.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env_bool("MEMORI_CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None
# Debug pages and error reports mask credentials, including passwords inside connection URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "memori_site.debug.CredentialsHidingFilter"

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": env_float("MEMORI_BROKER_POLL_SECONDS", 0.005),
    }
else:
    # Publishing gives up fast when the broker is down (the job stays in the outbox for the sweeper)
    # instead of holding the caller's request through kombu's default reconnect loop.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
        "socket_connect_timeout": 2,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
# Celery's Django fixup closes the database connection before and after every task unless this is
# set: a new PostgreSQL connection per job costs more than the job. Connections are kept instead and
# checked like a web request's (memory/worker_connections.py: broken or older than CONN_MAX_AGE).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 100_000)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2}
CELERY_BEAT_SCHEDULE = {
    "republish-stale-augmentation-jobs": {
        "task": "memory.tasks.sweep_stale_jobs",
        "schedule": env_float("MEMORI_SWEEP_INTERVAL_SECONDS", 30.0),
    },
}

# --- Memori ---------------------------------------------------------------------------------
# The local demo (tenant "demo", staff user admin/admin, an API key in var/, sample activity):
# bin/run and `manage.py seed_demo` create it only when this is on — by default only with DEBUG on.
MEMORI_DEMO = env_bool("MEMORI_DEMO", default=DEBUG)
MEMORI_EXTRACTOR = env_str("MEMORI_EXTRACTOR", "rules")
MEMORI_LLM_BASE_URL = env_str("MEMORI_LLM_BASE_URL")
MEMORI_LLM_API_KEY = env_str("MEMORI_LLM_API_KEY", "not-needed")
MEMORI_LLM_MODEL = env_str("MEMORI_LLM_MODEL", "gpt-4o-mini")
MEMORI_LLM_TIMEOUT_SECONDS = env_float("MEMORI_LLM_TIMEOUT_SECONDS", 30.0)
MEMORI_EMBEDDER = env_str("MEMORI_EMBEDDER", "static")
MEMORI_EMBEDDING_BASE_URL = env_str("MEMORI_EMBEDDING_BASE_URL")
MEMORI_EMBEDDING_API_KEY = env_str("MEMORI_EMBEDDING_API_KEY", "not-needed")
MEMORI_EMBEDDING_MODEL = env_str("MEMORI_EMBEDDING_MODEL", "text-embedding-3-small")
MEMORI_DEDUP_SIMILARITY = env_float("MEMORI_DEDUP_SIMILARITY", 0.95)
MEMORI_RECALL_TOKEN_BUDGET = env_int("MEMORI_RECALL_TOKEN_BUDGET", 700)
# At most this many recalled items per call; 0: as many as the token budget holds (the budget decides).
MEMORI_RECALL_LIMIT = env_int("MEMORI_RECALL_LIMIT", 0)
# Share of the token budget other agents' recent work (handoffs) takes first; more if relevant memories leave room.
MEMORI_RECALL_HANDOFF_SHARE = env_float("MEMORI_RECALL_HANDOFF_SHARE", 0.25)
# Episodes: past exchanges as they were said, recalled beside memories for what extraction did not keep.
MEMORI_RECALL_EPISODES = env_bool("MEMORI_RECALL_EPISODES", True)
# The most of the token budget episodes may take.
MEMORI_RECALL_EPISODE_SHARE = env_float("MEMORI_RECALL_EPISODE_SHARE", 0.5)
MEMORI_RECALL_CACHE_ENTITIES = env_int("MEMORI_RECALL_CACHE_ENTITIES", 256)
MEMORI_RECALL_CACHE_ROWS = env_int("MEMORI_RECALL_CACHE_ROWS", 1_000_000)
# Other processes' memories mentioned this recently are recalled even without matching (handoffs); 0 = off.
MEMORI_RECALL_HANDOFF_SECONDS = env_int("MEMORI_RECALL_HANDOFF_SECONDS", 600)
# Beyond that window, another process's finding keeps a relevance prior of this weight (0 = off) that halves
# every FRESH_HALF_LIFE_SECONDS (memory/recall/recent.py): the next agent asks about it in its own words.
MEMORI_RECALL_FRESH_WEIGHT = env_float("MEMORI_RECALL_FRESH_WEIGHT", 0.2)
MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS = env_int("MEMORI_RECALL_FRESH_HALF_LIFE_SECONDS", 3600)
# Two processes stating different values of one claim this close in time contradict each other;
# further apart (or from one process) the later value supersedes the earlier one.
MEMORI_CONTRADICTION_WINDOW_SECONDS = env_int("MEMORI_CONTRADICTION_WINDOW_SECONDS", 300)
MEMORI_AUGMENTATION_MAX_ATTEMPTS = env_int("MEMORI_AUGMENTATION_MAX_ATTEMPTS", 5)
MEMORI_STALE_JOB_SECONDS = env_float("MEMORI_STALE_JOB_SECONDS", 60.0)
# Jobs one task claims and stores together; 0 = the extractor's own (64 for rules, 1 for an LLM).
MEMORI_AUGMENTATION_BATCH_SIZE = env_int("MEMORI_AUGMENTATION_BATCH_SIZE", 0)
MEMORI_JOBS_MAX_WAIT_SECONDS = env_float("MEMORI_JOBS_MAX_WAIT_SECONDS", 30.0)

# --- Cache (API rate limits, graph layouts) ---------------------------------------------------
# Per-process memory by default; CACHE_URL=redis://... shares them across web workers.
CACHE_URL = env_str("CACHE_URL")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["memory.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["memory.api.permissions.HasTenantApiKey"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "memory.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["memory.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("MEMORI_API_RATE", "6000/min")},
    "EXCEPTION_HANDLER": "memory.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Memori API",
    "DESCRIPTION": "Shared memory for multi-agent LLM systems: record exchanges, recall memory.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes: lockouts and repeated failures (warnings), not every successful login.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
