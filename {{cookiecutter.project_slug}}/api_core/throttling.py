"""Throttles whose counts stay exact when many processes share one cache.

DRF's own throttles read a list of request times from the cache and write it
back: two processes (gunicorn workers, replicas) can read the same list and
both let a request through. These count in fixed windows with the cache's
atomic increment instead (INCR on Redis), so a client gets exactly the
configured number of requests per window, whatever the number of processes.
On Redis the count is one round trip per request: a script that increments the
window's counter and, on its first request, sets its expiry.

When the cache cannot be reached they let requests through (fail open): an
outage of the counts is no reason to refuse the API, which is logged as a
warning (at most once a minute per process) and counted in
``django_cache_errors_total{use="throttle"}``; /health/ready reports it.
"""

import logging
import time
import weakref
from typing import TYPE_CHECKING

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework import throttling

from api_core.metrics import CACHE_ERRORS, THROTTLED

logger = logging.getLogger(__name__)
# Seconds between two warnings of one process while the cache stays down.
WARN_EVERY = 60.0
_warned = {"at": -WARN_EVERY}
# KEYS[1] the window's counter, ARGV[1] its lifetime in seconds: the count, atomically.
COUNT_SCRIPT = """
local count = redis.call("INCR", KEYS[1])
if count == 1 then redis.call("EXPIRE", KEYS[1], ARGV[1]) end
return count
"""
_script: dict[str, Script] = {}
# A client per cache backend (one per thread), for its connection pool: Django's
# get_client() builds a new one each call, a tenth of a throttle's time.
_clients: "weakref.WeakKeyDictionary[RedisCacheClient, Redis]" = weakref.WeakKeyDictionary()

if TYPE_CHECKING:  # DRF imports this module while defining its views
    from rest_framework.request import Request
    from rest_framework.views import APIView


class FixedWindowMixin(throttling.SimpleRateThrottle):
    """``num_requests`` per ``duration`` seconds, counted by an atomic increment."""

    # Set by SimpleRateThrottle.__init__ from the rate.
    num_requests: int
    duration: int
    window_end = 0.0

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = float((window + 1) * self.duration)
        key = f"{ident}:{window}"
        try:
            count = self.count(key)
        except (RedisError, OSError) as error:
            cache_unavailable(error)
            return True
        if count > self.num_requests:
            THROTTLED.labels(self.scope).inc()
            return False
        return True

    def count(self, key: str) -> int:
        """This request's number in its window: on Redis one script call (Django's
        RedisCache would take three: add, and incr's existence check and INCR); on another
        cache, add() creates the counter once per window, and incr() is atomic."""
        # DRF's throttles hold Django's proxy of the default cache: the backend behind it.
        backend = caches[DEFAULT_CACHE_ALIAS] if self.cache is default_cache else self.cache
        if isinstance(backend, RedisCache):
            client = _clients.get(backend._cache)
            if client is None:
                client = _clients.setdefault(backend._cache, backend._cache.get_client(write=True))
            script = _script.get("count") or _script.setdefault(
                "count", client.register_script(COUNT_SCRIPT)
            )
            full_key = backend.make_and_validate_key(key)
            return int(script(keys=[full_key], args=[self.duration + 1], client=client))
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            return int(self.cache.incr(key))
        except ValueError:  # the counter expired between add() and incr()
            self.cache.add(key, 1, timeout=self.duration + 1)
            return 1

    def wait(self) -> float:
        """Seconds until the window ends (Retry-After)."""
        return max(self.window_end - self.now, 0.0)


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous clients, by address (DRF's NUM_PROXIES decides which address); signed-in
    users are not counted here."""


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    """Signed-in users, by account, and only them.

    DRF's own user throttle counts anonymous clients by address too, so an
    anonymous client would be held to the lower of the two rates: each rate
    setting limits only the clients it names.
    """

    def get_cache_key(self, request: "Request", view: "APIView") -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


def cache_unavailable(error: Exception) -> None:
    """Count a failed throttle call, and warn of it at most every WARN_EVERY seconds."""
    CACHE_ERRORS.labels("throttle").inc()
    now = time.monotonic()
    if now - _warned["at"] >= WARN_EVERY:
        _warned["at"] = now
        logger.warning(
            "The cache is unavailable (%s: %s): requests are not throttled until it is back. "
            "Check the server REDIS_URL names.",
            type(error).__name__,
            error,
        )
