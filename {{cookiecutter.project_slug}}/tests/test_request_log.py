"""Request ids and logs: X-Request-ID in and out, on every line; JSON lines in production."""

import io
import json
import logging
import logging.config
import re
import runpy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import resolve, reverse
from rest_framework import status

from api_core.request_log import HEADER, NO_REQUEST, RequestIdFilter, current_request_id

LIST_URL = reverse("api:book-list")
FRESH_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog, its records given the request_id that the console handler's filter adds."""
    caplog.set_level(logging.INFO, logger="access")
    request_id_filter = RequestIdFilter()
    caplog.handler.addFilter(request_id_filter)
    yield caplog
    caplog.handler.removeFilter(request_id_filter)


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The access logger's records: one per request."""
    return [record for record in caplog.records if record.name == "access"]


@pytest.fixture
def json_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Production's LOGGING in force, its console writing to a buffer: the lines it prints."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", "production-logging-test-key")
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "testserver")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    production: dict[str, Any] = runpy.run_module("config.settings.production")["LOGGING"]
    buffer = io.StringIO()
    console = {**production["handlers"]["console"], "stream": buffer}
    logging.config.dictConfig({**production, "handlers": {"console": console}})
    try:
        yield buffer
    finally:
        logging.config.dictConfig(settings.LOGGING)


def lines_of(buffer: io.StringIO) -> list[dict[str, Any]]:
    """Each printed line as the JSON object it must be."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "request_id",
    ["0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9", "0f1e2d3c4b5a49788695a4b3c2d1e0f9"],
    ids=["dashed", "hex"],
)
def test_well_formed_request_id_is_returned_and_logged(
    client: Client, access_log: pytest.LogCaptureFixture, request_id: str
) -> None:
    """A UUID in X-Request-ID comes back unchanged and is on the request's log line."""
    response = client.get(LIST_URL, HTTP_X_REQUEST_ID=request_id)

    assert response.status_code == status.HTTP_200_OK
    assert response[HEADER] == request_id
    [record] = access_records(access_log)
    assert record.request_id == request_id  # type: ignore[attr-defined]
    assert record.getMessage().startswith(f"GET {LIST_URL} 200 ")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "incoming",
    ["abc", "a" * 200, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9\nINFO forged line", "{}"],
    ids=["short", "long", "newline", "braces"],
)
def test_malformed_request_id_is_replaced(
    client: Client, access_log: pytest.LogCaptureFixture, incoming: str
) -> None:
    """Anything but a UUID gets a fresh id, so no client text reaches the logs unchecked."""
    response = client.get(LIST_URL, HTTP_X_REQUEST_ID=incoming)

    assert FRESH_ID.fullmatch(response[HEADER])
    ids = [record.request_id for record in access_records(access_log)]  # type: ignore[attr-defined]
    assert ids == [response[HEADER]]


@pytest.mark.django_db
def test_request_without_an_id_gets_a_fresh_one_each_time(client: Client) -> None:
    """With no X-Request-ID each request gets its own new id."""
    first, second = client.get(LIST_URL), client.get(LIST_URL)

    assert FRESH_ID.fullmatch(first[HEADER])
    assert FRESH_ID.fullmatch(second[HEADER])
    assert first[HEADER] != second[HEADER]


@pytest.mark.django_db
def test_log_lines_outside_a_request_carry_no_id(client: Client) -> None:
    """Once a request has ended, log records (start-up, commands) show "-" as their id."""
    client.get(LIST_URL)
    record = logging.makeLogRecord({"msg": "after the request"})

    RequestIdFilter().filter(record)

    assert current_request_id.get() == NO_REQUEST
    assert record.request_id == NO_REQUEST  # type: ignore[attr-defined]


def test_health_probes_are_not_logged(client: Client, access_log: pytest.LogCaptureFixture) -> None:
    """Probes hit every few seconds: they get no access line and no id."""
    response = client.get("/health/live")

    assert response.status_code == status.HTTP_200_OK
    assert HEADER not in response
    assert access_records(access_log) == []


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"])
def test_browser_code_may_read_the_request_id(client: Client) -> None:
    """Cross-origin responses expose X-Request-ID, so a web page can quote it."""
    response = client.get(LIST_URL, HTTP_ORIGIN="https://app.example")

    assert response["Access-Control-Expose-Headers"] == HEADER


@pytest.mark.django_db
def test_production_logs_one_json_line_per_request(client: Client, json_log: io.StringIO) -> None:
    """Production prints the access line as JSON with method, path, status, duration and id."""
    request_id = uuid.uuid4().hex

    client.get(LIST_URL, HTTP_X_REQUEST_ID=request_id)

    [line] = [line for line in lines_of(json_log) if line["logger"] == "access"]
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"]) == ("GET", LIST_URL, 200)
    assert line["duration_ms"] >= 0
    assert line["message"] == f"GET {LIST_URL} 200 {line['duration_ms']}ms"
    assert line["level"] == "INFO"
    assert "time" in line


def test_django_warning_after_the_response_carries_the_id(
    client: Client, json_log: io.StringIO
) -> None:
    """Django logs "Not Found" once the middleware has returned; the line still has the id."""
    request_id = uuid.uuid4().hex

    response = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID=request_id)

    assert response.status_code == status.HTTP_404_NOT_FOUND
    lines = lines_of(json_log)
    assert [line["logger"] for line in lines] == ["access", "django.request"]
    assert {line["request_id"] for line in lines} == {request_id}


@pytest.mark.django_db
def test_production_error_carries_its_traceback_in_the_same_line(
    monkeypatch: pytest.MonkeyPatch, json_log: io.StringIO
) -> None:
    """A view that raises logs one JSON record holding the traceback and the request's id."""
    view_class: Any = resolve(LIST_URL).func.cls  # type: ignore[attr-defined]

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(view_class, "list", fail)
    request_id = str(uuid.uuid4())

    response = Client(raise_request_exception=False).get(LIST_URL, HTTP_X_REQUEST_ID=request_id)

    assert response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR
    lines = lines_of(json_log)  # every printed line parses: no traceback lines of its own
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == request_id
    assert "Traceback" in error["exc_info"]
    assert "RuntimeError: boom" in error["exc_info"]
    assert {line["request_id"] for line in lines} == {request_id}
