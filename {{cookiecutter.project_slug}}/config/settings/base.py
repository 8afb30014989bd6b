"""Settings for every environment, from environment variables (README.md lists them)."""

import tomllib
from pathlib import Path
from typing import Any

from environs import validate

from config.env import env, metrics_port

# The chosen authentication's AUTH_APPS, AUTH_CLASSES, AUTH_DESCRIPTION, AUTH_ERROR_CODES.
from config.settings.auth import *  # noqa: F403
from config.settings.database import database_settings

# SECURE_CSP and the policies of the other pages, PERMISSIONS_POLICY.
from config.settings.security_headers import *  # noqa: F403

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROJECT_NAME = {{ cookiecutter.project_name | quoted }}
# The project's metadata, written once in pyproject.toml: the schema's licence and contact.
PROJECT = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]

# SECURITY WARNING: never run with DEBUG on in production.
DEBUG = env.bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"], str.strip)
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

INSTALLED_APPS = [
    # startresource (`make app`), and a runserver that checks the database first.
    "scaffold.apps.ScaffoldConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rest_framework",
    *AUTH_APPS,  # noqa: F405
    "django_tasks_db",
    "api_core.apps.ApiCoreConfig",
    "background.apps.BackgroundConfig",
    "books.apps.BooksConfig",
    "imports.apps.ImportsConfig",
{%- if cookiecutter.app_layout == "split" %}
    "api.apps.ApiConfig",
{%- endif %}
    # `make app name=...` adds new apps below.
]

MIDDLEWARE = [
    # Health probes first (no host check or session), then metrics, request ids,
    # CORS before any answer.
    "api_core.health.HealthCheckMiddleware",
    "api_core.metrics.MetricsMiddleware",
    "api_core.request_log.RequestLogMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy (config/settings/security_headers.py); inside it,
    # the policy of the responses that are not HTML, and Permissions-Policy.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "api_core.security_headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # csp_nonce, for the csp_nonce_attr tag on inline scripts and styles.
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {"default": database_settings(env.str("DATABASE_URL", ""))}

# The throttle counts: in Redis (or Valkey) shared by every process and
# replica, else per process. The error leaves the URL out: it may hold a password.
REDIS_URL_FORMAT = validate.Regexp(
    r"(rediss?://|unix://|$)",
    error="Not a Redis URL. Use redis://HOST:6379/0 (or rediss:// for TLS, unix:///path).",
)
REDIS_URL = env.str("REDIS_URL", "", validate=REDIS_URL_FORMAT)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # A cache server that stops answering costs a request at most this long
        # (seconds) per call: throttling then lets requests through (api_core/throttling.py).
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Background tasks (django.tasks), kept in the database and run by `manage.py
# worker` (`make worker`); see README.md, "Background work".
# https://docs.djangoproject.com/en/6.1/topics/tasks/
TASKS = {
    "default": {
        "BACKEND": env.str("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# A worker silent this long is dead, and its task runs again on another, at
# most TASK_MAX_ATTEMPTS times in all (background/recovery.py).
WORKER_LOST_AFTER = env.int("DJANGO_WORKER_LOST_AFTER", 30, validate=validate.Range(min=2))
TASK_MAX_ATTEMPTS = env.int("DJANGO_TASK_MAX_ATTEMPTS", 3, validate=validate.Range(min=1))
# The largest file POST /api/v1/imports/ takes. Uploads up to it stay in
# memory (no temporary file, so a read-only container takes them too).
IMPORT_MAX_BYTES = env.int(
    "DJANGO_IMPORT_MAX_BYTES", 10 * 1024 * 1024, validate=validate.Range(min=1)
)
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES

# Prometheus metrics, on a port of their own: gunicorn's master serves the web
# processes' (config/gunicorn.py), `manage.py worker` its own and the queue's.
METRICS_PORT = metrics_port()

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = {{ cookiecutter.timezone | quoted }}
USE_I18N = True
USE_TZ = True

# WhiteNoise serves static files, compressed and with hashed names (collected in the image).
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# https://www.django-rest-framework.org/api-guide/settings/
THROTTLE_RATE = validate.Regexp(
    r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)\Z",
    error="Not a rate. Use a count and a period, e.g. 60/minute (second, minute, hour, day).",
)
REST_FRAMEWORK = {
    # Tokens before sessions: an anonymous write gets 401 naming the scheme,
    # not a bare 403. Sessions serve the browsable API and the docs pages.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *AUTH_CLASSES,  # noqa: F405
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # JSON, and DRF's browsable API in a page that passes the HTML policy.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "api_core.renderers.BrowsableAPIRenderer",
    ],
    # JSON only, to a bounded depth: one body type per operation for client generators.
    "DEFAULT_PARSER_CLASSES": ["api_core.parsers.BoundedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "api_core.pagination.ListPagination",
    "PAGE_SIZE": 20,
    # Anonymous callers by IP address, users by account, counted in CACHES.
    "DEFAULT_THROTTLE_CLASSES": [
        "api_core.throttling.AnonRateThrottle",
        "api_core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("DJANGO_THROTTLE_ANON", "60/minute", validate=THROTTLE_RATE),
        "user": env.str("DJANGO_THROTTLE_USER", "600/minute", validate=THROTTLE_RATE),
    },
    # SECURITY WARNING: the number of proxies in front that append to
    # X-Forwarded-For. 0 takes the connection's address, which clients cannot
    # forge; too high a number lets them pick their own throttle bucket.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", 0, validate=validate.Range(min=0)),
    "EXCEPTION_HANDLER": "api_core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api_core.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# The schema, and docs pages served from the sidecar package (offline too).
SPECTACULAR_SETTINGS = {
    "TITLE": PROJECT_NAME,
    "VERSION": {{ cookiecutter.version | quoted }},
    "DESCRIPTION": (BASE_DIR / "api_core" / "description.md")
    .read_text(encoding="utf-8")
    .replace("{authentication}", AUTH_DESCRIPTION),  # noqa: F405
    # Relative: the site that serves the schema is the one it describes.
    "SERVERS": [{"url": "/", "description": "This server, the one that serves this schema"}],
    "CONTACT": {"name": PROJECT["authors"][0]["name"], "email": PROJECT["authors"][0]["email"]},
    # The SPDX identifier of pyproject.toml; none there means the code is not open source.
    "LICENSE": (
        {"name": PROJECT["license"], "url": f"https://spdx.org/licenses/{PROJECT['license']}.html"}
        if "license" in PROJECT
        else {"name": "Proprietary: all rights reserved (see the LICENSE file)"}
    ),
    "TAGS": [
        {"name": "api", "description": "Where each API version and the documentation live."},
        {"name": "auth", "description": "Credentials for the API, from a username and password."},
        {"name": "books", "description": "The catalogue: list, search, add, change, delete."},
        {"name": "imports", "description": "Books added from a file, in the background; staff."},
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    # Read-only fields (id, timestamps) are not asked for in requests.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {"ErrorCode": "api_core.errors.ERROR_CODES"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Browser origins that may call the API (none by default); they may read the request id.
CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", [], str.strip)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID"]

# To the console, for the container runtime: every line with its request's id
# ("-" outside one), an access line per request; JSON in production.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "api_core.request_log.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"},
        "json": {"()": "api_core.request_log.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", "INFO")},
    # Django's own default logging prints these too; keep one copy.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
