"""Throttling: exact counts per window, clients told apart by an address they cannot forge."""

import runpy
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from environs import EnvValidationError
from prometheus_client import REGISTRY
from rest_framework import status
from rest_framework.test import APIClient

from api_core import throttling
from api_core.throttling import AnonRateThrottle, UserRateThrottle
from config.settings import base

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")


@pytest.fixture(autouse=True)
def three_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "3/minute")
    # Far from a window's end, so that all requests of a test share one window.
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: 1_000_000 * 60 + 1.0)


def statuses(client: APIClient, **headers: Any) -> list[int]:
    return [client.get(LIST_URL, **headers).status_code for _ in range(5)]


def test_an_anonymous_client_gets_exactly_the_rate(api_client: APIClient) -> None:
    """3/minute lets 3 requests through and refuses the rest until the window ends."""
    codes = statuses(api_client)

    assert codes == [status.HTTP_200_OK] * 3 + [status.HTTP_429_TOO_MANY_REQUESTS] * 2
    retry_after = int(api_client.get(LIST_URL)["Retry-After"])
    assert 0 < retry_after <= 60


def test_a_forged_forwarded_for_header_does_not_escape_the_limit(api_client: APIClient) -> None:
    """With no trusted proxy, X-Forwarded-For is ignored: a new value is no new client."""
    codes = [
        api_client.get(LIST_URL, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(5)
    ]

    assert codes.count(status.HTTP_200_OK) == 3


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    api_client: APIClient, settings: Any
) -> None:
    """DJANGO_NUM_PROXIES=1: the address the proxy saw is the client, one limit each."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    first = statuses(api_client, HTTP_X_FORWARDED_FOR="203.0.113.7")
    second = statuses(api_client, HTTP_X_FORWARDED_FOR="198.51.100.9, 203.0.113.8")

    assert first.count(status.HTTP_200_OK) == 3
    assert second.count(status.HTTP_200_OK) == 3


def rates(monkeypatch: pytest.MonkeyPatch, anon: str, user: str) -> None:
    """DJANGO_THROTTLE_ANON and DJANGO_THROTTLE_USER as given, every request in one window."""
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: anon)
    monkeypatch.setattr(UserRateThrottle, "get_rate", lambda self: user)
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: 1_000_000 * 60 + 1.0)


def burst(client: APIClient, requests: int = 20) -> list[int]:
    return [client.get(LIST_URL).status_code for _ in range(requests)]


def test_anonymous_clients_are_limited_by_the_anonymous_rate_alone(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A high anonymous rate and a low user rate: a burst of anonymous requests all pass."""
    rates(monkeypatch, anon="100/minute", user="3/minute")

    assert burst(api_client) == [status.HTTP_200_OK] * 20


def test_signed_in_users_are_limited_by_the_user_rate_alone(
    auth_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A high user rate and a low anonymous rate: a burst of a user's requests all pass."""
    rates(monkeypatch, anon="3/minute", user="100/minute")

    assert burst(auth_client) == [status.HTTP_200_OK] * 20


def test_a_signed_in_user_gets_exactly_the_user_rate(
    auth_client: APIClient, api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3/minute for users lets a user's 3 requests through; an anonymous client from the
    same address still has its own, higher rate."""
    rates(monkeypatch, anon="100/minute", user="3/minute")
    three_then_refused = [status.HTTP_200_OK] * 3 + [status.HTTP_429_TOO_MANY_REQUESTS] * 2

    assert burst(auth_client, 5) == three_then_refused
    assert burst(api_client, 5) == [status.HTTP_200_OK] * 5


def default_cache() -> dict[str, Any]:
    cache: dict[str, Any] = runpy.run_path(base.__file__)["CACHES"]["default"]
    return cache


def test_redis_url_selects_the_shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """REDIS_URL makes Django's Redis cache the default; unset, each process has its own."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert default_cache()["BACKEND"].endswith("LocMemCache")

    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")

    assert default_cache() == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache:6379/0",
        # A server that stops answering holds a request half a second per call at most.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def test_a_url_that_is_not_redis_is_refused_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong REDIS_URL stops start-up with the variable's name and the fix, not its value
    (which may hold a password)."""
    monkeypatch.setenv("REDIS_URL", "http://user:s3cret@cache:6379")

    with pytest.raises(EnvValidationError, match=r'"REDIS_URL" invalid.*Not a Redis URL') as error:
        default_cache()

    assert "s3cret" not in str(error.value)


@pytest.fixture
def cache_down(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared cache is a Redis server that is not there: nothing listens on port 1."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": base.CACHES["default"].get("OPTIONS", {}),
        }
    }
    monkeypatch.setitem(throttling._warned, "at", -throttling.WARN_EVERY)


def cache_errors() -> float:
    return REGISTRY.get_sample_value("django_cache_errors_total", {"use": "throttle"}) or 0.0


@pytest.mark.usefixtures("cache_down")
def test_a_cache_outage_lets_requests_through_with_one_warning(
    api_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Throttling fails open: 5 requests at 3/minute all answer 200, each failed cache call
    is counted, and the log says once what is wrong and where to look."""
    before = cache_errors()

    codes = statuses(api_client)

    assert codes == [status.HTTP_200_OK] * 5
    assert cache_errors() - before == 5
    warnings = [record for record in caplog.records if record.name == "api_core.throttling"]
    assert len(warnings) == 1, [record.getMessage() for record in warnings]
    assert "not throttled" in warnings[0].getMessage()
    assert "REDIS_URL" in warnings[0].getMessage()


@pytest.mark.usefixtures("cache_down")
def test_readiness_reports_a_cache_outage_and_stays_in_service(client: Client) -> None:
    """/health/ready is 200 "degraded" with the cache down: the API still serves."""
    response = client.get("/health/ready")

    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unavailable"}
