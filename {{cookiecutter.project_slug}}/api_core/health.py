"""Health endpoints for container runtimes and orchestrators.

- ``/health/live``: the process answers (liveness; restart it if not).
- ``/health/ready``: the database answers too (readiness; send it traffic);
  503 when it does not. It reports the cache as well, but a cache outage
  keeps it at 200 (``"status": "degraded"``): the API serves without
  throttling, and taking every replica out of service would be worse.

They are answered by a middleware placed first, before host validation and
the HTTPS redirect: probes come from inside the container or cluster, by IP
address and over plain http, and must not need an entry in ALLOWED_HOSTS.
"""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import RedisError

from api_core.database_errors import UNREACHABLE_HINT

logger = logging.getLogger(__name__)

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"


def database_is_ready() -> bool:
    """Run a trivial query; False (and a warning in the log) when the database fails."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.warning("Readiness check: the database is unavailable: %s", error)
        # Drop the broken connection so the next check (or request) reconnects.
        connection.close()
        return False
    return True


def cache_is_ready() -> bool:
    """Read a key from the cache; False (and a warning in the log) when the cache fails."""
    try:
        cache.get("health:ready")
    except (RedisError, OSError) as error:
        logger.warning("Readiness check: the cache is unavailable: %s", error)
        return False
    return True


def database_problem() -> str | None:
    """Why the database cannot be reached, in one line naming the fix; None when it answers.

    runserver and the test suite call it first, so that a stopped database
    server is one clear line rather than a traceback (or a test per error).
    """
    try:
        connection.ensure_connection()
    except DatabaseError as error:
        settings = connection.settings_dict
        where = ":".join(str(part) for part in (settings["HOST"], settings["PORT"]) if part)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"Cannot connect to the database {settings['NAME']!s}"
            f"{f' at {where}' if where else ''} ({reason}). {UNREACHABLE_HINT}"
        )
    finally:
        connection.close()
    return None


class HealthCheckMiddleware:
    """Answer the two health paths before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path == LIVE_PATH:
            return JsonResponse({"status": "ok"})
        if path == READY_PATH:
            checks = {
                "database": "ok" if database_is_ready() else "unavailable",
                "cache": "ok" if cache_is_ready() else "unavailable",
            }
            if checks["database"] != "ok":
                return JsonResponse({"status": "unavailable", **checks}, status=503)
            status = "ok" if checks["cache"] == "ok" else "degraded"
            return JsonResponse({"status": status, **checks})
        return self.get_response(request)
