"""Turn DATABASE_URL into a Django DATABASES entry, with errors that name the fix.

https://docs.djangoproject.com/en/6.1/ref/settings/#databases
"""

from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SQLITE_ENGINE = "django.db.backends.sqlite3"


def parse_database_url(url: str, *, schemes: tuple[str, ...], example: str) -> dict[str, Any]:
    """Parse ``url``, refusing a scheme this project has no driver for."""
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(
            f"DATABASE_URL has the scheme {scheme!r}, which this project does not support. "
            f"Use {example}."
        )
    return dict(dj_database_url.parse(url))


def sqlite_settings(config: dict[str, Any]) -> dict[str, Any]:
    """Tune SQLite for a web server with several workers.

    WAL lets readers run beside the writer, IMMEDIATE transactions take the
    write lock up front (so a transaction never fails half-way to upgrade
    it), and the busy timeout makes a second writer wait instead of failing
    with "database is locked".
    https://docs.djangoproject.com/en/6.1/ref/databases/#sqlite-notes
    """
    config["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    return config
