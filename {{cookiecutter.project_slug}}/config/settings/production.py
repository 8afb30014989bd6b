"""Settings for production: safe by default, every secret from the environment.

`python manage.py check --deploy --fail-level WARNING` passes with these
settings and only DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and REDIS_URL set.
https://docs.djangoproject.com/en/6.1/howto/deployment/checklist/
"""

from django.core.exceptions import ImproperlyConfigured
from environs import validate

from config.env import env
from config.settings.base import *  # noqa: F403

DEBUG = False


def required(name: str, hint: str) -> str:
    """The variable ``name``; refuse to start, saying how to set it, when it is unset or empty."""
    value = env.str(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {hint}")
    return value


# SECURITY WARNING: the key signs sessions and tokens; keep it out of the code.
SECRET_KEY = required(
    "DJANGO_SECRET_KEY",
    "Set it to a long random value, e.g. the output of "
    'python -c "import secrets; print(secrets.token_urlsafe(50))".',
)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", [], str.strip)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set. Set it to the comma-separated host names "
        "this site answers to, e.g. api.example.com,localhost."
    )

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [], str.strip)

# Throttle counts are shared by every process and replica, never silently
# kept per process (base.py builds CACHES from this URL).
required(
    "REDIS_URL",
    "Production keeps throttle counts in a shared cache: set it to redis://HOST:6379/0 "
    "(docker-compose.yml runs one as the cache service).",
)


# HTTPS
# https://docs.djangoproject.com/en/6.1/topics/security/#ssl-https

# A TLS-terminating proxy in front sets X-Forwarded-Proto; trust it only
# behind such a proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Turn off only where no proxy terminates TLS (a local container on http).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# SECURITY WARNING: once browsers have seen HSTS they refuse plain http for
# this long; start with a small value (e.g. 60) on a new domain.
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, validate=validate.Range(min=0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# SECURITY WARNING: preloading is a promise to browser vendors that every
# subdomain serves HTTPS for good, and takes months to undo; ask for it only
# once the domain is ready to submit to hstspreload.org. Django's deploy
# check warns while it is off (security.W021); that warning is silenced
# below because off is the deliberate default, not an oversight.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]


# Logging: one JSON object per line, for log collectors. Keys: time (ISO 8601,
# UTC), level, logger, message, request_id, a record's extra fields (the
# access line's method, path, status and duration_ms) and, on errors,
# exc_info: the traceback, inside the same record.
# https://nhairs.github.io/python-json-logger/latest/

LOGGING = {
    **LOGGING,  # noqa: F405
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "{levelname}{name}{message}{request_id}",
            "style": "{",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        },
    },
    "handlers": {
        "console": {**LOGGING["handlers"]["console"], "formatter": "json"},  # noqa: F405
    },
}
