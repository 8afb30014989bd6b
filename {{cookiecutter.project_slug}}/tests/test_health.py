"""Health endpoints: liveness always, readiness only with a working database."""

from typing import Any

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from pytest_django import DjangoDbBlocker
from rest_framework import status

from api_core import health
from api_core.database_errors import UNREACHABLE_HINT


def test_live_answers_without_the_database(client: Client) -> None:
    """Liveness needs no database and no allowed host name."""
    response = client.get("/health/live", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {"status": "ok"}


def test_probes_over_plain_http_are_not_redirected(client: Client, settings: Any) -> None:
    """With production's HTTPS redirect on, probes over http still answer; other paths redirect."""
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/live").status_code == status.HTTP_200_OK
    assert client.get("/api/").status_code == status.HTTP_301_MOVED_PERMANENTLY


@pytest.mark.django_db
def test_ready_answers_when_the_database_does(client: Client) -> None:
    """Readiness runs a query, reads the cache and reports both ok."""
    response = client.get("/health/ready/")

    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_ready_is_503_when_the_database_fails(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing database turns readiness to 503, with the reason in the log."""

    def broken_cursor(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/health/ready")

    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json()["database"] == "unavailable"
    assert "connection refused" in caplog.text


def test_other_paths_still_check_the_host(client: Client) -> None:
    """Only the health paths skip host validation."""
    response = client.get("/api/v1/books/", HTTP_HOST="evil.example")

    assert response.status_code == status.HTTP_400_BAD_REQUEST


def test_unreachable_database_is_one_line_naming_the_fix(
    monkeypatch: pytest.MonkeyPatch,
    unreachable_database: BaseDatabaseWrapper,
    django_db_blocker: DjangoDbBlocker,
) -> None:
    """runserver and the test session stop with this line: the database, the reason, the fix."""
    monkeypatch.setattr(health, "connection", unreachable_database)

    with django_db_blocker.unblock():
        problem = health.database_problem()

    assert problem is not None
    name = unreachable_database.settings_dict["NAME"]
    assert problem.startswith(f"Cannot connect to the database {name}")
    assert problem.endswith(UNREACHABLE_HINT)
    assert "\n" not in problem
