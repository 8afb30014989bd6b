"""Database settings for SQLite: a file in the project unless DATABASE_URL names another.

https://docs.djangoproject.com/en/6.1/ref/databases/#sqlite-notes
"""

from pathlib import Path
from typing import Any

from config.database_url import parse_database_url, sqlite_settings

EXAMPLE_URL = "sqlite:////absolute/path/to/db.sqlite3"
DEFAULT_URL = f"sqlite:///{Path(__file__).resolve().parents[2] / 'db.sqlite3'}"


def database_settings(url: str) -> dict[str, Any]:
    """Build the default DATABASES entry from ``url``: db.sqlite3 in the project when empty."""
    return sqlite_settings(
        parse_database_url(
            url or DEFAULT_URL,
            schemes=("sqlite",),
            example=f"{EXAMPLE_URL}, or leave it unset for db.sqlite3 in the project",
        )
    )
