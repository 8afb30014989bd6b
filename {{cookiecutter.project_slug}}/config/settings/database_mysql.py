"""Database settings for MySQL (MariaDB, tested, or MySQL 8.4), from DATABASE_URL, in tests too."""

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from environs import validate

from config.env import env

EXAMPLE_URL = "mysql://USER:PASSWORD@HOST:3306/NAME"


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``; refuse to start without a usable one."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme not in ("mysql", "sqlite"):
        problem = f"has the scheme {scheme!r}, which this project does not support"
        raise ImproperlyConfigured(
            f"DATABASE_URL {problem if url else 'is not set'}. Copy its line from .env.example "
            "into .env and run `make db` to start the database it names, or set it to your "
            f"own: {EXAMPLE_URL}"
        )
    # Persistent connections save a connect per request; the health check
    # replaces one the server closed (a restart, wait_timeout) before use.
    config = dj_database_url.parse(
        url,
        conn_max_age=env.int("DJANGO_CONN_MAX_AGE", 60, validate=validate.Range(min=0)),
        conn_health_checks=True,
    )
    if scheme != "sqlite":
        timeout = env.int("DJANGO_DB_CONNECT_TIMEOUT", 5, validate=validate.Range(min=0))
        config["OPTIONS"] = {
            # utf8mb4 stores every Unicode character; MySQL's "utf8" stops at three bytes.
            "charset": "utf8mb4",
            # Strict mode rejects bad data instead of truncating it (Django check mysql.W002).
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            # Fail fast when the server is unreachable instead of hanging a worker.
            "connect_timeout": timeout,
        }
        config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return dict(config)
