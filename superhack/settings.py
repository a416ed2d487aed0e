"""SuperHack settings, read from the environment.

With nothing set, everything is embedded: SQLite under var/, in-memory channel layer,
local-memory cache and django-q2's ORM broker. DATABASE_URL switches to PostgreSQL and
REDIS_URL moves the channel layer, the cache and the task broker to Redis.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from .env import (
    ImproperlyConfiguredEnv,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url,
    sqlite_database,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SUPERHACK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
MODEL_DIR = Path(env_str("MODEL_DIR", str(VAR_DIR / "models")))  # trained artifacts; ml.registry alone writes here

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    # A key that survives restarts without anyone having to invent one: generated once
    # and kept under var/, which is never committed.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # API tokens for integrators (session auth serves the browser)
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc's own files, served from static/: the docs work on a closed network
    "drf_spectacular_sidecar",
    "django_q",
    "channels",
    "clients",
    "integrations",
    # The sandbox's own commands (runsandbox, connect_sandbox, setup_demo) live in its app.
    "integrations.sandbox",
    "ml",
    "insights",
    # Live alerts (real-time anomalies, churn warnings, leak findings) and their websocket.
    "insights.alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static/ from the project under daphne: the app must work on a closed network.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "superhack.urls"
WSGI_APPLICATION = "superhack.wsgi.application"
ASGI_APPLICATION = "superhack.asgi.application"

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

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {"default": sqlite_database(VAR_DIR / "superhack.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

Q_CLUSTER = {
    # Two deployments (or a test's own worker) sharing one Redis need names of their own.
    "name": env_str("Q_CLUSTER_NAME", "superhack"),
    "workers": env_int("Q_WORKERS", 1, minimum=1),
    "timeout": env_int("Q_TIMEOUT", 1800, minimum=10),
    "retry": env_int("Q_TIMEOUT", 1800, minimum=10) + 60,
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# The MSP's reporting currency; amounts in other currencies are converted with the
# exchange rate QuickBooks stored on each transaction.
HOME_CURRENCY = env_str("HOME_CURRENCY", "USD")

STATIC_URL = "static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js from the installed plotly package (the same release as the Python side), served
    # as static/vendor/plotly/plotly.min.js: no CDN, no copy of 4 MB kept in the repository.
    ("vendor/plotly", Path(find_spec("plotly").origin).parent / "package_data"),
]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from static/ too, so a missed collectstatic never leaves pages unstyled.
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "insights:home"
LOGOUT_REDIRECT_URL = "login"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "insights.api.errors.handler",
    # Per-scope request rates (a view names its scope); a client over its rate gets 429 with
    # Retry-After. Counters live in the cache: Redis when set, per process otherwise.
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "read": env_str("API_RATE_READ", "600/min"),
        "write": env_str("API_RATE_WRITE", "60/min"),
        "predict": env_str("API_RATE_PREDICT", "600/min"),
        "batch": env_str("API_RATE_BATCH", "30/min"),
    },
}
# A batch of predictions up to this many clients is answered inline; a larger one becomes a job.
API_BATCH_INLINE_MAX = env_int("API_BATCH_INLINE_MAX", 100, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "SuperHack API",
    "DESCRIPTION": "Client KPIs, genome, predictions, revenue leaks, alerts and models of one MSP.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Demand forecasting and capacity planning (FORECAST_*); SuperOps and QuickBooks Online sync,
# the sandbox and matching thresholds.
from .settings_forecasting import *  # noqa: E402,F403
from .settings_integrations import *  # noqa: E402,F403
from .settings_integrations import refused_sandbox_values  # noqa: E402

# Stops every entry point (manage.py commands, daphne, the worker) before it serves anything.
if refused := refused_sandbox_values(globals(), DEBUG):
    raise ImproperlyConfiguredEnv(refused)
