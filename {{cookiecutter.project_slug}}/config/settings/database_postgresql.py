"""Database settings for PostgreSQL through psycopg 3, from DATABASE_URL, in tests too."""

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import validate

from config.env import env

EXAMPLE_URL = "postgres://USER:PASSWORD@HOST:5432/NAME"


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``; refuse to start without a usable one."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme not in ("postgres", "postgresql", "sqlite"):
        problem = f"has the scheme {scheme!r}, which this project does not support"
        raise ImproperlyConfigured(
            f"DATABASE_URL {problem if url else 'is not set'}. Copy its line from .env.example "
            "into .env and run `make db` to start the database it names, or set it to your "
            f"own: {EXAMPLE_URL}"
        )
    # Persistent connections save a connect per request; the health check
    # replaces one the server closed (a restart, an idle timeout) before use.
    config = dj_database_url.parse(
        url,
        conn_max_age=env.int("DJANGO_CONN_MAX_AGE", 60, validate=validate.Range(min=0)),
        conn_health_checks=True,
    )
    if scheme != "sqlite":
        # Fail fast when the server is unreachable instead of hanging a worker.
        timeout = env.int("DJANGO_DB_CONNECT_TIMEOUT", 5, validate=validate.Range(min=0))
        config["OPTIONS"] = {"connect_timeout": timeout}
    return dict(config)
