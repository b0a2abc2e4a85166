"""Django settings for Tribune, read from ``TRIBUNE_*`` environment variables.

Every variable is documented in the README with its default. The embedded default
needs none of them: SQLite, files and the secret key live under ``TRIBUNE_DATA_DIR``.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from corsheaders.defaults import default_headers
from django.core.exceptions import ImproperlyConfigured

from tribune.core.conf import (
    available_cpus,
    database_settings,
    dev_peers,
    env_bool,
    env_int,
    env_networks,
    is_loopback_host,
    split_host,
)
from tribune.media.storage import media_storage
from tribune.oauth.scopes import ALL as OAUTH_SCOPES

# host or IPv4 or [IPv6], with an optional port
DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")

DATA_DIR = Path(os.environ.get("TRIBUNE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured secret key, else one generated once into the data dir."""
    configured = os.environ.get("TRIBUNE_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # O_EXCL: two processes starting together must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("TRIBUNE_DEBUG", False)

# The instance's public domain (host[:port]); `tribune serve` sets it to the address
# it binds when the operator did not.
TRIBUNE_DOMAIN = os.environ.get("TRIBUNE_DOMAIN") or "127.0.0.1:8000"
if not DOMAIN_RE.fullmatch(TRIBUNE_DOMAIN):
    raise ImproperlyConfigured(
        f"TRIBUNE_DOMAIN must be a host name with an optional port, like social.example "
        f"or 127.0.0.1:8000 (no scheme, no path); got {TRIBUNE_DOMAIN!r}")
# Instances on one machine federating with each other (development only): each
# domain named here is reached over plain HTTP at its loopback address:port, and
# an instance whose own domain is one of them keeps https:// ids like any other.
TRIBUNE_DEV_PEERS = dev_peers(os.environ.get("TRIBUNE_DEV_PEERS", ""), debug=DEBUG)
TRIBUNE_SCHEME = ("https" if split_host(TRIBUNE_DOMAIN) in TRIBUNE_DEV_PEERS
                  else "http" if DEBUG or is_loopback_host(TRIBUNE_DOMAIN) else "https")
TRIBUNE_BASE_URL = f"{TRIBUNE_SCHEME}://{TRIBUNE_DOMAIN}"
# Where clients reach the streaming API (Mastodon's ``urls.streaming_api``): a
# ws:// or wss:// URL with no path. ``tribune serve`` sets it to its streaming
# process's port unless TRIBUNE_DOMAIN is set; by default it is this server's own
# address (a reverse proxy routes /api/v1/streaming to the streaming process).
TRIBUNE_STREAMING_URL = (os.environ.get("TRIBUNE_STREAMING_URL", "").strip().rstrip("/")
                         or TRIBUNE_BASE_URL.replace("http", "ws", 1))
if not re.fullmatch(r"wss?://[^/?#\s]+", TRIBUNE_STREAMING_URL):
    raise ImproperlyConfigured(
        f"TRIBUNE_STREAMING_URL must be a ws:// or wss:// URL with no path, like "
        f"wss://streaming.social.example; got {TRIBUNE_STREAMING_URL!r}")
TRIBUNE_MAX_CHARACTERS = env_int("TRIBUNE_MAX_CHARACTERS", 500)
if not 1 <= TRIBUNE_MAX_CHARACTERS <= 100_000:
    raise ImproperlyConfigured(
        f"TRIBUNE_MAX_CHARACTERS must be between 1 and 100000; got {TRIBUNE_MAX_CHARACTERS}")
TRIBUNE_REGISTRATIONS = os.environ.get("TRIBUNE_REGISTRATIONS", "open")
if TRIBUNE_REGISTRATIONS not in ("open", "approval", "invite", "closed"):
    raise ImproperlyConfigured(
        f"TRIBUNE_REGISTRATIONS must be open, approval, invite or closed; got {TRIBUNE_REGISTRATIONS!r}")
_rate_limits = os.environ.get("TRIBUNE_RATE_LIMITS", "on").strip().lower()
if _rate_limits not in ("on", "off"):
    raise ImproperlyConfigured(f"TRIBUNE_RATE_LIMITS must be on or off; got {_rate_limits!r}")
TRIBUNE_RATE_LIMITS = _rate_limits == "on"
# Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed
# (tribune.core.ratelimit.client_ip); empty trusts no one.
TRIBUNE_TRUSTED_PROXIES = env_networks("TRIBUNE_TRUSTED_PROXIES")
if TRIBUNE_TRUSTED_PROXIES:
    # The proxy terminates TLS: request.is_secure() follows its X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Community juries (moderation reference §8.7): seats, votes needed for quorum,
# and votes needed for a verdict (a supermajority, so two verdicts cannot both win).
TRIBUNE_JURY_SIZE = env_int("TRIBUNE_JURY_SIZE", 5)
if not 3 <= TRIBUNE_JURY_SIZE <= 25:
    raise ImproperlyConfigured(
        f"TRIBUNE_JURY_SIZE must be between 3 and 25; got {TRIBUNE_JURY_SIZE}")
TRIBUNE_JURY_QUORUM = env_int("TRIBUNE_JURY_QUORUM", TRIBUNE_JURY_SIZE)
if not 1 <= TRIBUNE_JURY_QUORUM <= TRIBUNE_JURY_SIZE:
    raise ImproperlyConfigured(
        f"TRIBUNE_JURY_QUORUM must be between 1 and TRIBUNE_JURY_SIZE ({TRIBUNE_JURY_SIZE}); "
        f"got {TRIBUNE_JURY_QUORUM}")
TRIBUNE_JURY_THRESHOLD = env_int("TRIBUNE_JURY_THRESHOLD", min(4, TRIBUNE_JURY_SIZE))
if not TRIBUNE_JURY_SIZE / 2 < TRIBUNE_JURY_THRESHOLD <= TRIBUNE_JURY_SIZE:
    raise ImproperlyConfigured(
        f"TRIBUNE_JURY_THRESHOLD must be more than half of TRIBUNE_JURY_SIZE "
        f"({TRIBUNE_JURY_SIZE}) and at most all of it; got {TRIBUNE_JURY_THRESHOLD}")
TRIBUNE_TITLE = os.environ.get("TRIBUNE_TITLE", "Tribune")
TRIBUNE_SOURCE_URL = os.environ.get("TRIBUNE_SOURCE_URL", "")
# Hosts outbound fetches may reach although they resolve to internal addresses
# (``host`` or ``host:port``, comma-separated; tribune.core.http).
TRIBUNE_FETCH_ALLOW_HOSTS = [h.strip().lower() for h in
                             os.environ.get("TRIBUNE_FETCH_ALLOW_HOSTS", "").split(",") if h.strip()]
TRIBUNE_LINK_PREVIEWS = env_bool("TRIBUNE_LINK_PREVIEWS", True)
# Video, audio and animated GIFs need ffmpeg and ffprobe (tribune.media.video).
TRIBUNE_FFMPEG = os.environ.get("TRIBUNE_FFMPEG", "ffmpeg")
TRIBUNE_FFPROBE = os.environ.get("TRIBUNE_FFPROBE", "ffprobe")
TRIBUNE_MEDIA_MAX_VIDEO_SECONDS = env_int("TRIBUNE_MEDIA_MAX_VIDEO_SECONDS", 300)
TRIBUNE_MEDIA_MAX_VIDEO_BYTES = env_int("TRIBUNE_MEDIA_MAX_VIDEO_BYTES", 99 * 1024 * 1024)
# Images: the largest file and the most pixels accepted (decompression bombs are
# refused before decoding; tribune.media.processing).
TRIBUNE_MEDIA_MAX_IMAGE_BYTES = env_int("TRIBUNE_MEDIA_MAX_IMAGE_BYTES", 16 * 1024 * 1024)
# update_credentials carries avatar and header pictures in a body that is read into
# memory (PATCH/PUT), so that body may be as large as a picture, plus its fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = TRIBUNE_MEDIA_MAX_IMAGE_BYTES + 1024 * 1024
TRIBUNE_MEDIA_MAX_PIXELS = env_int("TRIBUNE_MEDIA_MAX_PIXELS", 8192 * 8192)
# Imports of a person's own data (tribune.portability): the largest CSV and the most
# rows in one (Mastodon's 20 MB and 20,000), the largest archive (zip or tar.gz)
# and the most posts read from one.
TRIBUNE_IMPORT_MAX_CSV_BYTES = env_int("TRIBUNE_IMPORT_MAX_CSV_BYTES", 20 * 1024 * 1024)
TRIBUNE_IMPORT_MAX_ROWS = env_int("TRIBUNE_IMPORT_MAX_ROWS", 20_000)
TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES = env_int("TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES", 512 * 1024 * 1024)
TRIBUNE_IMPORT_MAX_POSTS = env_int("TRIBUNE_IMPORT_MAX_POSTS", 100_000)
for _name in ("TRIBUNE_IMPORT_MAX_CSV_BYTES", "TRIBUNE_IMPORT_MAX_ROWS",
              "TRIBUNE_IMPORT_MAX_ARCHIVE_BYTES", "TRIBUNE_IMPORT_MAX_POSTS"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be at least 1; got {globals()[_name]}")

# Host checking is done by tribune.core.middleware.HostCheckMiddleware, which also
# accepts the whole loopback range; Django's own check cannot express a range.
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "corsheaders",
    "django_htmx",
    "csp",
    "oauth2_provider",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "tribune.core",
    "tribune.streaming",
    "tribune.accounts",
    "tribune.graph",
    "tribune.media",
    "tribune.statuses",
    "tribune.links",
    "tribune.lists",
    "tribune.filters",
    "tribune.conversations",
    "tribune.scheduling",
    "tribune.search",
    "tribune.trends",
    "tribune.timelines",
    "tribune.notifications",
    "tribune.moderation",
    "tribune.federation",
    "tribune.portability",
    "tribune.oauth",
    "tribune.api",
    "tribune.web",
    "tribune.effects",
]

MIDDLEWARE = [
    "tribune.core.middleware.HostCheckMiddleware",
    "tribune.core.middleware.ApiRequestMiddleware",
    "tribune.core.middleware.NulCharacterMiddleware",
    "tribune.api.ratelimit.RateLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tribune.web.middleware.UserLanguageMiddleware",
    "tribune.web.sessions.SessionSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "tribune.web.overload.OverloadMiddleware",
]

ROOT_URLCONF = "tribune.urls"
WSGI_APPLICATION = "tribune.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tribune.web.context.interface",
            ],
        },
    },
]

# The database: SQLite under the data dir (the embedded default), or the one named by
# TRIBUNE_DATABASE_URL (postgres://user:password@host:port/name, or sqlite:///path).
DATABASES = {"default": database_settings(os.environ.get("TRIBUNE_DATABASE_URL", ""),
                                          default_path=DATA_DIR / "tribune.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis (TRIBUNE_REDIS_URL, e.g. redis://127.0.0.1:6379/0) holds Django's cache (and
# so the rate-limit counters), the home feeds and the task queue. Without it the
# cache is a database table, feeds are a table and tasks are rows (django-tasks-db).
TRIBUNE_REDIS_URL = os.environ.get("TRIBUNE_REDIS_URL", "").strip()
if TRIBUNE_REDIS_URL and not TRIBUNE_REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(
        f"TRIBUNE_REDIS_URL must be a redis://, rediss:// or unix:// URL; got {TRIBUNE_REDIS_URL!r}")
# redis-py reads any path that is not a number as database 0, silently.
if (TRIBUNE_REDIS_URL.startswith(("redis://", "rediss://"))
        and not re.fullmatch(r"/?(?:[0-9]+)?", urlsplit(TRIBUNE_REDIS_URL).path)):
    raise ImproperlyConfigured(
        f"TRIBUNE_REDIS_URL must name its database by number, like redis://host:6379/0; "
        f"got the path {urlsplit(TRIBUNE_REDIS_URL).path!r}")
if TRIBUNE_REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": TRIBUNE_REDIS_URL, "KEY_PREFIX": "cache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                          "LOCATION": "tribune_cache"}}
# Rendered Status and Account entities keyed by their rows' versions
# (tribune.core.entity_cache; ADR 0013): in Redis when there is one, so every web
# process shares them; otherwise in each process's memory.
if TRIBUNE_REDIS_URL:
    CACHES["entities"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": TRIBUNE_REDIS_URL, "KEY_PREFIX": "entity",
                          "TIMEOUT": 3600}
else:
    CACHES["entities"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                          "LOCATION": "entities", "TIMEOUT": 3600,
                          "OPTIONS": {"MAX_ENTRIES": 50_000}}
# Each process's own notes (when it last trimmed a feed).
CACHES["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                   "LOCATION": "local", "OPTIONS": {"MAX_ENTRIES": 100_000}}

# Argon2id at OWASP's parameters first; older hashes (Django's Argon2 defaults,
# PBKDF2) still verify and are re-hashed at the next sign-in (accounts.hashers).
PASSWORD_HASHERS = [
    "tribune.accounts.hashers.Argon2idPasswordHasher",
    "tribune.accounts.hashers.PBKDF2PasswordHasher",
]
# Password hashings this instance's processes on one machine run at once between
# them (slots shared through lock files); more are refused with 503 at once
# (tribune.core.capacity). One per CPU: each hashing keeps one core busy.
TRIBUNE_HASH_CONCURRENCY = env_int("TRIBUNE_HASH_CONCURRENCY", available_cpus())
if TRIBUNE_HASH_CONCURRENCY < 1:
    raise ImproperlyConfigured(
        f"TRIBUNE_HASH_CONCURRENCY must be at least 1; got {TRIBUNE_HASH_CONCURRENCY}")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "tribune.accounts.passwords.MaximumLengthValidator"},  # 128 characters
]
LOGIN_URL = "/auth/sign_in"
# A password-reset link lasts 6 hours (Mastodon's ``reset_password_within``).
PASSWORD_RESET_TIMEOUT = 6 * 3600
# New local accounts must confirm their e-mail address before they may sign in or
# use an app (Mastodon always asks; off by default so a laptop demo without mail
# works). Confirmation links last 3 days (Mastodon's ``confirm_within``).
TRIBUNE_REQUIRE_EMAIL_CONFIRMATION = env_bool("TRIBUNE_REQUIRE_EMAIL_CONFIRMATION", False)
TRIBUNE_EMAIL_CONFIRMATION_SECONDS = 3 * 24 * 3600
# The name authenticator apps show beside a TOTP secret (django-otp).
OTP_TOTP_ISSUER = TRIBUNE_TITLE
CSRF_FAILURE_VIEW = "tribune.web.errors.csrf_failure"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
# One catalogue for the whole project (src/tribune/locale), compiled .mo committed.
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
LANGUAGES = [("en", "English"), ("fr", "Français")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Static files (the admin's, our own) are served by WhiteNoise straight from the
# installed apps, so the embedded default needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/system/"
# Media files: under MEDIA_ROOT (served by tribune.web.media_files), or in an
# S3-compatible bucket named by TRIBUNE_MEDIA_URL (tribune.media.storage).
STORAGES = {
    "default": media_storage(os.environ.get("TRIBUNE_MEDIA_URL", ""), environ=os.environ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# E-mail (moderation notices, for now): written as files under the data dir unless
# TRIBUNE_SMTP_HOST names an SMTP server.
DEFAULT_FROM_EMAIL = os.environ.get("TRIBUNE_EMAIL_FROM") or f"notifications@{split_host(TRIBUNE_DOMAIN)}"
if os.environ.get("TRIBUNE_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["TRIBUNE_SMTP_HOST"]
    EMAIL_PORT = env_int("TRIBUNE_SMTP_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("TRIBUNE_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("TRIBUNE_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("TRIBUNE_SMTP_TLS", EMAIL_PORT == 587)
    EMAIL_TIMEOUT = 20
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "mail"

# Background work: Django's Tasks API (django-tasks backport). On the embedded default
# tasks are database rows (django-tasks-db); with Redis they go to RQ
# (django-tasks-rq), one RQ queue per task queue. `tribune worker` runs either.
TASK_QUEUES = ["default", "timelines", "federation", "media", "portability", "push"]
if TRIBUNE_REDIS_URL:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("django_tasks_db"), "django_rq")
    TASKS = {"default": {"BACKEND": "tribune.core.tasks.RetryingRQBackend",
                         "QUEUES": TASK_QUEUES}}
    RQ_QUEUES = {name: {"URL": TRIBUNE_REDIS_URL, "DEFAULT_TIMEOUT": 600}
                 for name in TASK_QUEUES}
    RQ_SHOW_ADMIN_LINK = False
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}

# Home feeds: accounts that have not been active for this many days are skipped by
# fan-out and their feed is rebuilt when they come back; accounts with more
# followers than TRIBUNE_FANOUT_MAX_FOLLOWERS are not fanned out at all but merged
# into their followers' home timelines when read (tribune.timelines).
TRIBUNE_FEED_ACTIVE_DAYS = env_int("TRIBUNE_FEED_ACTIVE_DAYS", 14)
if not 1 <= TRIBUNE_FEED_ACTIVE_DAYS <= 36_500:
    raise ImproperlyConfigured(
        f"TRIBUNE_FEED_ACTIVE_DAYS must be from 1 to 36500; got {TRIBUNE_FEED_ACTIVE_DAYS}")
TRIBUNE_FANOUT_MAX_FOLLOWERS = env_int("TRIBUNE_FANOUT_MAX_FOLLOWERS", 10_000)
if not 0 <= TRIBUNE_FANOUT_MAX_FOLLOWERS <= 2**31 - 1:
    raise ImproperlyConfigured(
        f"TRIBUNE_FANOUT_MAX_FOLLOWERS must be from 0 to 2147483647; "
        f"got {TRIBUNE_FANOUT_MAX_FOLLOWERS}")

# Trends (tribune.trends, docs/adr/0031): hashtags and posts trend publicly only
# once staff approved them, as Mastodon's trends approval does, unless review is off;
# scores are refreshed at most every TRIBUNE_TRENDS_REFRESH_SECONDS while people post.
TRIBUNE_TRENDS_REQUIRE_REVIEW = env_bool("TRIBUNE_TRENDS_REQUIRE_REVIEW", True)
TRIBUNE_TRENDS_REFRESH_SECONDS = env_int("TRIBUNE_TRENDS_REFRESH_SECONDS", 300)
if not 10 <= TRIBUNE_TRENDS_REFRESH_SECONDS <= 86_400:
    raise ImproperlyConfigured(
        f"TRIBUNE_TRENDS_REFRESH_SECONDS must be from 10 to 86400; "
        f"got {TRIBUNE_TRENDS_REFRESH_SECONDS}")

# OAuth 2 for Mastodon apps (see docs/adr/0003-oauth.md).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth.RefreshToken"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth.Grant"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth.IDToken"
OAUTH2_PROVIDER = {
    "SCOPES": {scope: scope for scope in OAUTH_SCOPES},
    "DEFAULT_SCOPES": ["read"],
    # Mastodon's tokens do not expire until revoked; ~300 years stands in for never.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 10**10,
    "REFRESH_TOKEN_EXPIRE_SECONDS": None,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600,
    "PKCE_REQUIRED": False,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "OAUTH2_VALIDATOR_CLASS": "tribune.oauth.validators.MastodonValidator",
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.Server",
    "REQUEST_APPROVAL_PROMPT": "auto",
    "ROTATE_REFRESH_TOKEN": False,
}

CORS_ALLOW_ALL_ORIGINS = True
CORS_URLS_REGEX = r"^/(api|oauth|\.well-known|nodeinfo)/.*$"
# Browser clients page with Link, pace themselves with X-RateLimit-* and send
# Idempotency-Key, as with Mastodon.
CORS_ALLOW_HEADERS = [*default_headers, "idempotency-key"]
CORS_EXPOSE_HEADERS = ["Link", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                       "X-Request-Id"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"tribune": {"level": "INFO"}},
}

# Content-Security-Policy (django-csp): no inline scripts anywhere; user content is
# sanitised HTML, so even a sanitiser bug cannot run script. ``form-action`` is left
# out because the OAuth consent form redirects to the app's own scheme.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "media-src": ["'self'", "https:"],
        "connect-src": list(dict.fromkeys(
            ["'self'", TRIBUNE_STREAMING_URL.replace("ws", "http", 1), TRIBUNE_STREAMING_URL])),
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
