"""Settings for the voucher entry site, switched by environment variables.

Production-safe by default: DEBUG is off unless DJANGO_DEBUG is set, and then a secret key and
allowed hosts must come from the environment.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    running_tests = bool(os.environ.get("PYTEST_VERSION")) or sys.argv[1:2] == ["test"]
    if not DEBUG and not running_tests:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-and-tests"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "waffle",
    "simple_history",
    "axes",
    "accounting",
    "legacy_entry",
    "voucher_config",
    "rollout",
    "support",
]

MIDDLEWARE = [
    # First: a load balancer's /healthz is answered before the host check and the HTTPS redirect.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, as WhiteNoise asks: static files with far-future headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "waffle.middleware.WaffleMiddleware",
    "accounting.middleware.ActiveOrganizationMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounting.context_processors.active_organization",
                "support.context_processors.announcements",
            ],
            # `{{ value|org_date }}` on every page: dates as the organization writes them.
            "builtins": ["accounting.templatetags.accounting_dates"],
        },
    },
]

# SQLite under var/ by default; DATABASE_URL (sqlite:///path, postgres://...) overrides it.
DEFAULT_DATABASE_URL = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        # Connections are kept between requests (60 s unless DEBUG) and checked before reuse,
        # so a server restart or a dropped connection costs a reconnect, not a failed request.
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "0" if DEBUG else "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked" mid-way.
    # synchronous=FULL: a committed voucher survives a power loss (NORMAL may lose the last
    # commits in WAL mode); the cost is measured in docs/PERFORMANCE.md.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("DJANGO_TEST_SQLITE_NAME")}
# A read replica for reports (config/db_router.py); none unless DATABASE_REPLICA_URL is set.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["config.db_router.ReportReplicaRouter"]
# Posting's own statements are prepared on PostgreSQL (accounting/services/statements.py). 0 for
# a connection pooler that cannot keep prepared statements (PgBouncer before 1.21, or without
# max_prepared_statements): they are then sent unnamed, still with server-side binding.
ACCOUNTING_PREPARED_STATEMENTS = os.environ.get("DJANGO_DB_PREPARED_STATEMENTS", "1") != "0"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
# Hashed names (app.3f2a1c.css) and compressed copies, served by WhiteNoise with a year's cache
# lifetime; DEBUG and the test client keep the plain storage, which needs no collectstatic.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or os.environ.get("PYTEST_VERSION")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one client address, that pair is refused, even with the right password, until the cool-off has
# passed since the last failure or an administrator unlocks it (docs/DEPLOYMENT.md).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked pair before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_RESET_ON_SUCCESS = True  # a successful login forgets the earlier typos
AXES_LOCKOUT_CALLABLE = "accounting.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests, for /login/ and /admin/login/ alike
# The client's address is the socket's (REMOTE_ADDR) unless Django runs behind reverse proxies
# that add the address they were reached from to a header (DJANGO_CLIENT_IP_HEADER, e.g.
# HTTP_X_FORWARDED_FOR), DJANGO_TRUSTED_PROXY_COUNT of them (default 1). Then REMOTE_ADDR is the
# nearest proxy, never a client, and the client is read from the header, counted from the right,
# so that what a client writes into the header itself is ignored.
client_ip_header = os.environ.get("DJANGO_CLIENT_IP_HEADER", "")
trusted_proxies = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "1"))
if client_ip_header and trusted_proxies > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER = [client_ip_header]
    # django-ipware counts the proxies the header lists after the client; the nearest proxy is
    # REMOTE_ADDR, not in the header. Not strict: addresses a client put before its own are
    # passed over instead of the whole header being discarded.
    AXES_IPWARE_PROXY_COUNT = trusted_proxies - 1
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

TEST_RUNNER = "config.test_runner.PytestTestRunner"

# Security: strict unless DEBUG.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
# Only our own files run or style a page: no inline script or style, no eval, no framing. The
# entry screen's htmx is configured to match (see templates/voucher_config/entry.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# A voucher of 1,000 lines posts several thousand fields (a few per line); Django's default
# limit of 1,000 would refuse it with a 400. Still bounded, so the guard against huge posts stays.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 50_000
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Load balancers probe /healthz over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# Reverting through simple-history would bring back an old version number; the admin restores
# an earlier definition as a new version instead (voucher_config.services.config_restore).
SIMPLE_HISTORY_REVERT_DISABLED = True
WAFFLE_CREATE_MISSING_FLAGS = False
# waffle's default, named here because the flag history (rollout.models) depends on the model by it.
WAFFLE_FLAG_MODEL = "waffle.Flag"

# One cache shared by every server process: Redis when REDIS_URL is set (production, CI), else
# this process's memory (one process, as `make run` serves). It holds the sessions (cached_db:
# written through to the database, read from the cache), the rollout flags (waffle deletes a
# flag's key when it is saved, so a toggle reaches every process on its next request), the
# voucher types' configurations (deleted on save) and the beacon's budget.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "config.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("DJANGO_CACHE_KEY_PREFIX", "ledger"),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
WAFFLE_CACHE_NAME = "default"

# Parallel-run metrics and health alerts (rollout.metrics, rollout.health).
# Bearer token a Prometheus scraper sends to /metrics; empty turns token access off (staff only).
VOUCHER_METRICS_TOKEN = os.environ.get("VOUCHER_METRICS_TOKEN", "")
# Metrics are added up in each process's memory and written at most this often (at the end of a
# request, and when the process exits), so a page view writes nothing; readers flush first.
VOUCHER_METRICS_FLUSH_SECONDS = float(os.environ.get("VOUCHER_METRICS_FLUSH_SECONDS", "5"))
VOUCHER_METRICS_RETENTION_DAYS = int(os.environ.get("VOUCHER_METRICS_RETENTION_DAYS", "90"))
# Browser beacons one user may send per minute; past it they are refused (429) and not recorded.
# Counted in the default cache: share it between processes (e.g. Redis) for one budget per user.
VOUCHER_METRICS_BEACONS_PER_MINUTE = 30
VOUCHER_HEALTH_WINDOW = "1h"  # check_voucher_health's default --window
VOUCHER_HEALTH_POST_FAILURE_RATE = 0.05  # per channel: failed / (posted + failed)
VOUCHER_HEALTH_MIN_POSTS = 20  # fewer post attempts in the window are too few to judge a rate
VOUCHER_HEALTH_FORM_LOAD_P95_MS = 5000  # server and browser form load p95, per channel
VOUCHER_HEALTH_MIN_LOADS = 20  # fewer loads are too few for a p95
VOUCHER_HEALTH_HTMX_ERRORS_MAX = 10  # HTMX endpoint errors of any status, per channel and window
VOUCHER_HEALTH_HTMX_SERVER_ERRORS_MAX = 3  # of which 5xx or no response at all
VOUCHER_HEALTH_DB_ERRORS_MAX = 0  # database errors counted in the window
VOUCHER_HEALTH_NO_GO_SLOWDOWN = 0.20  # dashboard flags config p95 this much slower than legacy
