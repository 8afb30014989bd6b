"""Database settings for PostgreSQL through psycopg 3, read from DATABASE_URL.

Without DATABASE_URL, local development falls back to a SQLite file so the
project runs with no server; production and Docker always set it.
https://docs.djangoproject.com/en/6.1/ref/databases/#postgresql-notes
"""

from typing import Any

from config.database_url import SQLITE_ENGINE, parse_database_url, sqlite_settings
from config.env import env_int

EXAMPLE_URL = "postgres://USER:PASSWORD@HOST:5432/NAME"


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``."""
    config = parse_database_url(
        url, schemes=("postgres", "postgresql", "sqlite"), example=EXAMPLE_URL
    )
    if config["ENGINE"] == SQLITE_ENGINE:
        return sqlite_settings(config)
    # Persistent connections save a connect per request; the health check
    # replaces one the server closed (a restart, an idle timeout) before use.
    config["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # Fail fast when the server is unreachable instead of hanging a worker.
    config["OPTIONS"] = {"connect_timeout": env_int("DJANGO_DB_CONNECT_TIMEOUT", default=5)}
    return config
