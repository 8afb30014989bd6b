"""Settings for production: `check --deploy` passes with just the three required variables."""

from django.core.exceptions import ImproperlyConfigured
from environs import validate

from config.env import env
from config.settings.base import *  # noqa: F403

DEBUG = False


def required(name: str, hint: str) -> str:
    """Refuse to start, saying how to set ``name``, when it is unset or empty."""
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
required("DJANGO_ALLOWED_HOSTS", "Set it to the comma-separated host names this site answers to.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", [], str.strip)
# Throttle counts are shared by every process and replica, never kept per process.
required("REDIS_URL", "Set it to redis://HOST:6379/0 (docker-compose.yml runs one as cache).")

# Tasks run on the worker, never inside the request that queues them.
IN_REQUEST_BACKENDS = (
    "django.tasks.backends.immediate.ImmediateBackend",
    "django.tasks.backends.dummy.DummyBackend",
)
if TASKS["default"]["BACKEND"] in IN_REQUEST_BACKENDS:  # noqa: F405
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND is {TASKS['default']['BACKEND']}, which "  # noqa: F405
        "runs tasks inside the request (or never). Unset it for the worker's "
        "django_tasks_db.DatabaseBackend, and run `python manage.py worker`."
    )

# Behind a TLS proxy that sets X-Forwarded-Proto; no redirect only where none is (local http).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# SECURITY WARNING: browsers that saw HSTS refuse http this long; start small (60).
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, validate=validate.Range(min=0)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# SECURITY WARNING: preloading promises browsers HTTPS on every subdomain for
# good, and takes months to undo. Off is deliberate, so its warning is silenced.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# JSON lines, for log collectors.
LOGGING = {
    **LOGGING,  # noqa: F405
    "handlers": {"console": {**LOGGING["handlers"]["console"], "formatter": "json"}},  # noqa: F405
}
