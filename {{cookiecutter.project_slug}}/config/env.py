"""Typed readers for settings that come from environment variables.

Each reader names the variable and the fix when a value cannot be used, so a
typo in a deployment fails at start-up with a message rather than later with
a surprise.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# DRF's throttle rate format: a count, a slash, a period it knows.
RATE_PATTERN = re.compile(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)")


def env_str(name: str, default: str) -> str:
    """Return the variable ``name``, or ``default`` when it is unset or empty."""
    return os.environ.get(name) or default


def env_required(name: str, hint: str) -> str:
    """Return the variable ``name``; refuse to start when it is unset or empty."""
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} is not set. {hint}")
    return value


def env_bool(name: str, *, default: bool) -> bool:
    """Return the variable ``name`` read as a boolean (true/false, 1/0, yes/no, on/off)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not a boolean. Set it to true or false."
    )


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    """Return the variable ``name`` read as an integer of at least ``minimum``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a whole number of at least {minimum}. "
            f"Set it to a number such as {default}."
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the variable ``name`` split on commas, without blanks."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """Return the variable ``name`` as a DRF throttle rate such as ``100/minute``."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not RATE_PATTERN.fullmatch(raw):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate. Use a count and a period, e.g. {default!r} "
            "(periods: second, minute, hour, day)."
        )
    return raw


def env_cache(name: str) -> dict[str, str]:
    """The default cache: Redis at the URL in ``name``, or one cache per process if unset."""
    url = os.environ.get(name, "").strip()
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if not url.startswith(("redis://", "rediss://", "unix://")):
        # The value is not repeated: it may hold a password.
        raise ImproperlyConfigured(
            f"{name} is not a Redis URL. Use redis://HOST:6379/0 (or rediss:// for TLS, "
            "unix:///path/to/socket)."
        )
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
