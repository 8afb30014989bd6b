"""Settings shared by every environment; the other modules import and adjust these.

Every value that differs between deployments comes from an environment
variable (a .env file in development). The table of variables is in README.md.
https://docs.djangoproject.com/en/6.1/topics/settings/
https://docs.djangoproject.com/en/6.1/ref/settings/
"""

from pathlib import Path
from typing import Any

from environs import validate

from config.env import env

# The chosen authentication's settings (config/settings/auth.py): AUTH_APPS,
# AUTH_CLASSES, AUTH_DESCRIPTION and AUTH_ERROR_CODES, used below, and any
# settings of its library's own.
from config.settings.auth import *  # noqa: F403
from config.settings.database import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# The name shown on the library website.
PROJECT_NAME = {{ cookiecutter.project_name | quoted }}


# Core
# https://docs.djangoproject.com/en/6.1/ref/settings/#core-settings

# SECURITY WARNING: never run with DEBUG on in production.
DEBUG = env.bool("DJANGO_DEBUG", False)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"], str.strip)

ROOT_URLCONF = "config.urls"

WSGI_APPLICATION = "config.wsgi.application"


# Applications
# https://docs.djangoproject.com/en/6.1/ref/applications/

INSTALLED_APPS = [
    # Development commands: startresource (`make app`), and a runserver that
    # checks the database first, so it comes before staticfiles' runserver.
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
    "api_core.apps.ApiCoreConfig",
    "books.apps.BooksConfig",
{%- if cookiecutter.app_layout == "split" %}
    "api.apps.ApiConfig",
{%- endif %}
    # `make app name=...` (python manage.py startresource) adds new apps below.
]

MIDDLEWARE = [
    # First: health probes need no host check, redirect or session.
    "api_core.health.HealthCheckMiddleware",
    # Second, so health probes stay out of the logs: the request id
    # (X-Request-ID) on every log line and one access line per request.
    "api_core.request_log.RequestLogMiddleware",
    # Before anything that can answer, so that every API response has CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files (admin, browsable API) from the app.
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
        "DIRS": [],
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


# Database
# https://docs.djangoproject.com/en/6.1/ref/settings/#databases

DATABASES = {"default": database_settings(env.str("DATABASE_URL", ""))}


# Cache: where the throttle counts live. Redis (or Valkey) at REDIS_URL is
# shared by every process and replica, so limits hold across them; without
# it each process counts alone (fine for runserver and the tests).
# https://docs.djangoproject.com/en/6.1/topics/cache/#redis

REDIS_URL = env.str(
    "REDIS_URL",
    "",
    # Only the scheme is checked, and the message does not repeat the value:
    # it may hold a password.
    validate=validate.Regexp(
        r"(rediss?://|unix://|$)",
        error="Not a Redis URL. Use redis://HOST:6379/0 (or rediss:// for TLS, unix:///path).",
    ),
)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}


# Passwords
# https://docs.djangoproject.com/en/6.1/ref/settings/#auth-password-validators

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# Internationalization
# https://docs.djangoproject.com/en/6.1/topics/i18n/

LANGUAGE_CODE = "en-us"

TIME_ZONE = {{ cookiecutter.timezone | quoted }}

USE_I18N = True

USE_TZ = True


# Static files
# https://docs.djangoproject.com/en/6.1/howto/static-files/

STATIC_URL = "static/"

STATIC_ROOT = BASE_DIR / "staticfiles"

# Compressed files with content hashes in their names, cached forever by
# browsers. collectstatic runs at image build time (config.settings.build).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# Django REST Framework: the whole API configuration lives in this one dict.
# https://www.django-rest-framework.org/api-guide/settings/

# DRF's throttle rate format: a count, a slash, a period it knows.
THROTTLE_RATE = validate.Regexp(
    r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)\Z",
    error="Not a rate. Use a count and a period, e.g. 60/minute (second, minute, hour, day).",
)

REST_FRAMEWORK = {
    # Tokens first: an anonymous write then gets 401 with a WWW-Authenticate
    # header naming the scheme, rather than a bare 403. Sessions serve the
    # browsable API and the docs pages.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        *AUTH_CLASSES,  # noqa: F405
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads are open to everyone; writes need a signed-in user. Views narrow
    # this further (deleting a book needs a staff user).
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    # JSON only, with a bounded nesting depth (api_core/parsers.py). One body
    # format keeps the schema's request bodies to one, which client
    # generators need; the browsable API's raw-data form and the docs pages'
    # "Try it out" send JSON too.
    "DEFAULT_PARSER_CLASSES": [
        "api_core.parsers.BoundedJSONParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "api_core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Per client: anonymous callers by IP address, users by account, counted
    # atomically in the cache (CACHES below: shared when REDIS_URL is set).
    "DEFAULT_THROTTLE_CLASSES": [
        "api_core.throttling.AnonRateThrottle",
        "api_core.throttling.UserRateThrottle",
    ],
    # SECURITY WARNING: the number of proxies in front of the app that append
    # to X-Forwarded-For. 0 takes the connection's own address, which a client
    # cannot forge; behind N trusted proxies, N takes the address the Nth one
    # saw. Too high a number lets clients pick their own throttle bucket.
    "NUM_PROXIES": env.int("DJANGO_NUM_PROXIES", 0, validate=validate.Range(min=0)),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("DJANGO_THROTTLE_ANON", "60/minute", validate=THROTTLE_RATE),
        "user": env.str("DJANGO_THROTTLE_USER", "600/minute", validate=THROTTLE_RATE),
    },
    "EXCEPTION_HANDLER": "api_core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api_core.schema.ApiAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}


# OpenAPI schema and its documentation pages, served from this project (the
# sidecar package), so the docs work offline and in the container.
# https://drf-spectacular.readthedocs.io/en/latest/settings.html

SPECTACULAR_SETTINGS = {
    "TITLE": PROJECT_NAME,
    "VERSION": {{ cookiecutter.version | quoted }},
    "DESCRIPTION": (
        "The library's books.\n\n"
        "**Authentication**: reads are open; writes need a signed-in user and "
        "deleting needs a staff user. "
        f"{AUTH_DESCRIPTION}"  # noqa: F405
        "**Pagination**: lists come a page at a time (`page`, and `page_size` up "
        "to 100; 20 by default).\n\n"
        "**Errors**: every error response is JSON of one shape: `status`, `code`, "
        "`detail`, and for invalid input `errors`, a list of messages per field.\n\n"
        "**Throttling**: too many requests get 429 with a `Retry-After` header."
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components: read-only fields (id,
    # timestamps) are not asked for in requests.
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # The error codes' enum gets a name of its own rather than "CodeEnum".
    "ENUM_NAME_OVERRIDES": {"ErrorCode": "api_core.errors.ERROR_CODES"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}


# CORS: which browser origins may call the API. None by default.
# https://github.com/adamchainz/django-cors-headers#configuration

CORS_ALLOWED_ORIGINS = env.list("DJANGO_CORS_ALLOWED_ORIGINS", [], str.strip)
CORS_URLS_REGEX = r"^/api/.*$"
# Browser code may read the request id (api_core/request_log.py) to quote it in bug reports.
CORS_EXPOSE_HEADERS = ["X-Request-ID"]


# Logging: everything to the console, where a container runtime collects it.
# Every line carries its request's id (api_core/request_log.py; "-" outside a
# request) and the access logger writes one line per request. Production
# replaces the plain format with JSON.
# https://docs.djangoproject.com/en/6.1/topics/logging/

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "api_core.request_log.RequestIdFilter"},
    },
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"},
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
