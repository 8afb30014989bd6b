"""Database settings for MySQL (MariaDB, tested, or MySQL 8.4), read from DATABASE_URL.

Development and the tests use this server too, so the suite proves what
production runs: the baked .env points DATABASE_URL at the compose database
that `make db` starts. A sqlite:// URL, set on purpose, still works.
https://docs.djangoproject.com/en/6.1/ref/databases/#mysql-notes
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.database_url import SQLITE_ENGINE, parse_database_url, sqlite_settings
from config.env import env_int

EXAMPLE_URL = "mysql://USER:PASSWORD@HOST:3306/NAME"


MISSING_URL = (
    "DATABASE_URL is not set. Copy its line from .env.example into .env and run "
    f"`make db` to start the database it names, or set it to your own: {EXAMPLE_URL}"
)


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``; refuse to start without one."""
    if not url:
        raise ImproperlyConfigured(MISSING_URL)
    config = parse_database_url(url, schemes=("mysql", "sqlite"), example=EXAMPLE_URL)
    if config["ENGINE"] == SQLITE_ENGINE:
        return sqlite_settings(config)
    # Persistent connections save a connect per request; the health check
    # replaces one the server closed (a restart, wait_timeout) before use.
    config["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["OPTIONS"] = {
        # utf8mb4 stores every Unicode character; MySQL's "utf8" stops at three bytes.
        "charset": "utf8mb4",
        # Strict mode rejects bad data instead of truncating it (Django check mysql.W002).
        "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
        # Fail fast when the server is unreachable instead of hanging a worker.
        "connect_timeout": env_int("DJANGO_DB_CONNECT_TIMEOUT", default=5),
    }
    config["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
    return config
