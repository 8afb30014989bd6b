"""Database settings for SQLite: a file in the project unless DATABASE_URL names another."""

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

EXAMPLE_URL = "sqlite:////absolute/path/to/db.sqlite3"
PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_URL = f"sqlite:///{PROJECT_DIR / 'db.sqlite3'}"
# Tuned for a web server with several workers: WAL lets readers run beside
# the writer, IMMEDIATE transactions take the write lock up front (never
# failing half-way to upgrade it), and the busy timeout makes a second
# writer wait instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``: db.sqlite3 in the project when empty."""
    url = url or DEFAULT_URL
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme != "sqlite":
        raise ImproperlyConfigured(
            f"DATABASE_URL has the scheme {scheme!r}, which this project does not support. "
            f"Use {EXAMPLE_URL}, or leave it unset for db.sqlite3 in the project."
        )
    # The tests' database is a file too, not memory: the concurrency tests need
    # connections that wait on each other's locks, as web workers do.
    test = {"NAME": PROJECT_DIR / "test-db.sqlite3"}
    return {**dj_database_url.parse(url), "OPTIONS": SQLITE_OPTIONS, "TEST": test}
