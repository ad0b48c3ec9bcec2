"""Settings, all from the environment (django-environ).

Development defaults are safe and need nothing set. Production is `DEBUG=false`, which
requires a real SECRET_KEY and turns on every `check --deploy` hardening.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's own overrides; never required.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set (50+ random characters) when DEBUG=false.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "accounts",
    "posts",
    "graph",
    "timeline",
    "notifications",
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
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.LastActiveMiddleware",
    # After authentication: a signed-in browser's API calls count against its account.
    "socialnet.api_ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "socialnet.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "socialnet" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "socialnet.context_processors.navigation",
            ],
            "libraries": {"ui": "socialnet.ui_tags"},
        },
    },
]

WSGI_APPLICATION = "socialnet.wsgi.application"
ASGI_APPLICATION = "socialnet.asgi.application"

# --- Stores -----------------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/socialnet"),
}
# Connections come from a per-process pool (django-db-connection-pool, SQLAlchemy's QueuePool).
# Under ASGI Django runs each request's sync code in a thread of its own, so persistent
# connections (CONN_MAX_AGE > 0) pile up one per dead thread (bench_timeline saw 15 of 17
# responses fail); a new backend per request instead costs a fork and cold catalog caches
# (~9 ms, and query planning several times slower). With the pool, Django "closes" the
# connection at the end of each request as with CONN_MAX_AGE=0, which hands it back; the
# next request, in whatever thread, takes a warm one. PRE_PING checks it first, so a
# restarted PostgreSQL costs nothing but new connections. DB_POOL=false turns it off.
if env.bool("DB_POOL", default=True):
    DATABASES["default"]["ENGINE"] = "dj_db_conn_pool.backends.postgresql"
    DATABASES["default"]["POOL_OPTIONS"] = {
        "POOL_SIZE": env.int("DB_POOL_SIZE", default=10),  # per process: threads x 1 connection
        "MAX_OVERFLOW": env.int("DB_POOL_MAX_OVERFLOW", default=10),
        "RECYCLE": 15 * 60,
        "PRE_PING": True,
        "TIMEOUT": 10,
    }
DATABASES["default"]["CONN_MAX_AGE"] = 0  # "closing" returns the connection to the pool
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every key the app writes starts with this, so several deployments (or test runs) can
# share one Redis without seeing each other's keys.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="sn:")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX + "cache",
    }
}

NEO4J_URI = env.str("NEO4J_URI", default="")
NEO4J_USER = env.str("NEO4J_USER", default="neo4j")
NEO4J_PASSWORD = env.str("NEO4J_PASSWORD", default="")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [env.str("CHANNEL_LAYER_URL", default=REDIS_URL)],
            "prefix": REDIS_KEY_PREFIX + "ws",
            # channels-redis keeps one inbox per process for all of its sockets and drops what
            # is sent beyond `capacity` (default 100): a burst of notifications to a process
            # holding thousands of sockets must fit. Undelivered messages still expire in 60 s.
            "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=10_000),
        },
    }
}

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A broker host that does not answer must not stall the request that publishes.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=REDIS_KEY_PREFIX + "celery:"),
    # How long a task taken by a worker that died stays invisible before redelivery. Every
    # task is short (one fan-out batch is well under a second), so five minutes never
    # redelivers a task that is still running; a lost fan-out is caught sooner anyway by
    # the sweep, which re-enqueues posts still unmarked a minute after creation.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300),
    # Look for such abandoned tasks every 10 s (kombu's default scans every 100 s).
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    "sweep-unfanned-posts": {"task": "timeline.tasks.sweep_unfanned_posts", "schedule": 30.0},
    "refresh-vip-flags": {"task": "timeline.tasks.refresh_vip_flags", "schedule": 60.0},
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(hour=4, minute=17),
    },
    # Safety net for the Neo4j mirror: drains what a lost publish or a dead worker left in
    # the outbox. Does nothing without NEO4J_URI; an unrun tick expires, the next covers it.
    "drain-graph-outbox": {
        "task": "graph.tasks.drain_graph_outbox",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
}

# --- Auth -------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "timeline:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- OAuth2 for apps (django-oauth-toolkit), as Mastodon's API offers it -----------------

OAUTH2_PROVIDER_APPLICATION_MODEL = "accounts.OAuthApplication"
_READABLE = "accounts blocks bookmarks favourites filters follows lists mutes notifications search statuses"
_WRITABLE = "accounts blocks bookmarks conversations favourites filters follows lists media mutes notifications"
_WRITABLE += " reports statuses"
OAUTH2_PROVIDER = {
    # Mastodon's scopes: the four families and their fine-grained parts (accounts/oauth.py
    # decides which ones an endpoint needs).
    "SCOPES": {
        "read": "read all your data",
        "write": "change all your data",
        "follow": "follow, block and mute accounts",
        "push": "receive push notifications",
        "profile": "read only your own profile",
        **{f"read:{part}": f"read your {part}" for part in _READABLE.split()},
        **{f"write:{part}": f"change your {part}" for part in _WRITABLE.split()},
    },
    "DEFAULT_SCOPES": ["read"],
    # Mastodon tokens do not expire unless revoked; a long life keeps apps signed in, and
    # refresh tokens (with replay protection) renew them.
    "ACCESS_TOKEN_EXPIRE_SECONDS": 365 * 24 * 3600,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ROTATE_REFRESH_TOKEN": True,
    # Mastodon makes PKCE optional; it is required here for public clients (no secret),
    # whose only protection it is, and optional for confidential ones.
    "PKCE_REQUIRED": lambda client_id: __import__("accounts.oauth").oauth.pkce_required(client_id),
    # Only the fallback for error redirects before an app is known; apps' own URIs
    # (custom schemes, loopback http, out-of-band) are checked by accounts/oauth.py.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    # RFC 9700 behaviour: no implicit or password grant, S256 PKCE only, bearer tokens in
    # headers only (the streaming API reads its own query token), `iss` in responses,
    # tokens stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "OAUTH2_VALIDATOR_CLASS": "accounts.oauth.MastodonOAuth2Validator",
}

# last_active_at is written at most this often per user, by a Celery task.
LAST_ACTIVE_RESOLUTION_SECONDS = 15 * 60

# --- Product knobs ----------------------------------------------------------------------

POST_MAX_CHARS = env.int("POST_MAX_CHARS", default=500)
# Accounts seen within this many days count as active: timelines are fanned out to them,
# and "who to follow" suggests them.
ACTIVE_DAYS = env.int("ACTIVE_DAYS", default=14)
# Authors with at least this many followers are VIPs: no fan-out, readers pull their posts.
# Development uses a low threshold so the demo world has VIPs; a VIP falls back to regular
# only below VIP_THRESHOLD * VIP_DEMOTE_RATIO, so an author hovering at the line doesn't flap.
VIP_THRESHOLD = env.int("VIP_THRESHOLD", default=100 if DEBUG else 10_000)
VIP_DEMOTE_RATIO = env.float("VIP_DEMOTE_RATIO", default=0.9)
TIMELINE_MAX = env.int("TIMELINE_MAX", default=800)  # entries kept per home timeline
# A timeline is trimmed back to TIMELINE_MAX only once it is this many entries over, so
# most fan-out writes skip the trim; readers never look that deep anyway.
TIMELINE_TRIM_SLACK = env.int("TIMELINE_TRIM_SLACK", default=64)
VIP_POSTS_MAX = env.int("VIP_POSTS_MAX", default=800)  # entries kept per VIP's recent-posts set
FANOUT_BATCH = env.int("FANOUT_BATCH", default=5_000)  # followers per Redis round trip and per task
# Rendered status bodies (posts/store.py) live this long; versions make them right, not expiry.
STATUS_CACHE_SECONDS = env.int("STATUS_CACHE_SECONDS", default=24 * 3600)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
AVATAR_MAX_PIXELS = env.int("AVATAR_MAX_PIXELS", default=4096 * 4096)
AVATAR_SIZE = 400  # stored avatars are re-encoded to at most this many pixels a side
BENCHMARK_ENDPOINTS = env.bool("BENCHMARK_ENDPOINTS", default=False)  # bench_timeline's pages: never in production

# --- Files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "socialnet" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded avatars are re-encoded, so Django may serve them itself in small deployments
# (docker-compose); large ones put a proxy or object store in front (README).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# In development whitenoise serves straight from the apps' static folders (no
# collectstatic needed); in production from STATIC_ROOT, filled at image build time.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Mail -------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="socialnet <noreply@localhost>")

# --- i18n -------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST framework ---------------------------------------------------------------------

SPECTACULAR_SETTINGS = {
    "TITLE": "socialnet API",
    "DESCRIPTION": "The Mastodon client API, as socialnet serves it.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets come from the sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

REST_FRAMEWORK = {
    "EXCEPTION_HANDLER": "socialnet.api_errors.exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.oauth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
}

# Mastodon's rate limits (socialnet/api_ratelimit.py): bucket -> (requests, window in seconds).
# The test suite raises them (it sends thousands of requests from 127.0.0.1); a benchmark
# server turns them off with RATE_LIMITS_ENABLED=false.
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMITS = {
    "api": (env.int("RATE_LIMIT_API", default=300), 5 * 60),  # per token (or signed-in account)
    "api_ip": (env.int("RATE_LIMIT_API_IP", default=300), 5 * 60),  # per IP, without a token
    "posts": (env.int("RATE_LIMIT_POSTS", default=300), 3 * 3600),  # per account
    "follows": (env.int("RATE_LIMIT_FOLLOWS", default=400), 24 * 3600),  # per account
    "deletions": (env.int("RATE_LIMIT_DELETIONS", default=30), 30 * 60),  # per account
    "sign_ups": (env.int("RATE_LIMIT_SIGN_UPS", default=5), 30 * 60),  # per IP
    "login": (env.int("RATE_LIMIT_LOGINS", default=25), 5 * 60),  # per IP
}
# How long a status's Idempotency-Key is remembered (Mastodon: one hour).
IDEMPOTENCY_KEY_SECONDS = 3600

# --- Production hardening (passes `manage.py check --deploy`) ---------------------------

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
