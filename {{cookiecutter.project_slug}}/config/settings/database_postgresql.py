"""Database settings for PostgreSQL through psycopg 3, read from DATABASE_URL.

Development and the tests use PostgreSQL too, so the suite proves what
production runs: the baked .env points DATABASE_URL at the compose database
that `make db` starts. A sqlite:// URL, set on purpose, still works.
https://docs.djangoproject.com/en/6.1/ref/databases/#postgresql-notes
"""

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import validate

from config.env import env

EXAMPLE_URL = "postgres://USER:PASSWORD@HOST:5432/NAME"

MISSING_URL = (
    "DATABASE_URL is not set. Copy its line from .env.example into .env and run "
    f"`make db` to start the database it names, or set it to your own: {EXAMPLE_URL}"
)
# A sqlite:// URL, set on purpose, gets SQLite tuned for several workers: WAL
# lets readers run beside the writer, IMMEDIATE transactions take the write
# lock up front (never failing half-way to upgrade it), and the busy timeout
# makes a second writer wait instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``; refuse to start without one."""
    if not url:
        raise ImproperlyConfigured(MISSING_URL)
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme not in ("postgres", "postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"DATABASE_URL has the scheme {scheme!r}, which this project does not support. "
            f"Use {EXAMPLE_URL}."
        )
    if scheme == "sqlite":
        return {**dj_database_url.parse(url), "OPTIONS": SQLITE_OPTIONS}
    # Persistent connections save a connect per request; the health check
    # replaces one the server closed (a restart, an idle timeout) before use.
    config = dict(
        dj_database_url.parse(
            url,
            conn_max_age=env.int("DJANGO_CONN_MAX_AGE", 60, validate=validate.Range(min=0)),
            conn_health_checks=True,
        )
    )
    # Fail fast when the server is unreachable instead of hanging a worker.
    timeout = env.int("DJANGO_DB_CONNECT_TIMEOUT", 5, validate=validate.Range(min=0))
    config["OPTIONS"] = {"connect_timeout": timeout}
    return config
