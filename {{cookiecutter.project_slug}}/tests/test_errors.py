"""Errors under /api/ are JSON of one shape; throttling answers 429 with Retry-After."""

from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django.urls import resolve, reverse
from rest_framework import exceptions, status
from rest_framework.test import APIClient

from config import errors
from config.parsers import MAX_DEPTH, nesting_depth
from config.throttling import AnonRateThrottle

LIST_URL = reverse("api:book-list")


def make_the_list_raise(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make the book list view raise ``error`` for the rest of the test."""
    view_class: Any = resolve(LIST_URL).func.cls  # type: ignore[attr-defined]

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(view_class, "list", fail)


def test_unknown_api_path_is_json_404(client: Client) -> None:
    """A path under /api/ that matches nothing answers JSON, not an HTML page."""
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "detail": "No such API endpoint.",
    }


def test_unknown_website_path_is_html_404(client: Client) -> None:
    """Outside /api/ a missing page stays Django's HTML 404."""
    response = client.get("/no-such-page/")

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response["Content-Type"].startswith("text/html")


def test_server_error_under_api_is_json_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception answers JSON 500 and logs the traceback."""
    make_the_list_raise(monkeypatch, RuntimeError("boom"))
    client = Client(raise_request_exception=False)

    response = client.get(LIST_URL)

    assert response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR
    assert response.json() == {
        "status": 500,
        "code": "server_error",
        "detail": "A server error occurred.",
    }
    assert "RuntimeError: boom" in caplog.text


@pytest.mark.django_db
def test_database_failure_is_json_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that fails mid-request answers 503 with Retry-After, not a 500."""
    make_the_list_raise(monkeypatch, OperationalError("could not connect to server"))

    response = Client().get(LIST_URL)

    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
    assert "could not connect to server" in caplog.text


def test_website_server_error_stays_html(rf: Any) -> None:
    """Outside /api/ the 500 page stays Django's HTML."""
    response = errors.server_error(rf.get("/"))

    assert response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_method_not_allowed_is_json_405(auth_client: APIClient) -> None:
    """A method the path does not take is a 405 in the shared shape."""
    response = auth_client.put(LIST_URL, {})

    assert response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED
    assert response.data["code"] == "method_not_allowed"


@pytest.mark.django_db
@pytest.mark.django_db
@pytest.mark.parametrize("authenticated", [False, True], ids=["token-endpoint", "book-list"])
def test_deeply_nested_json_is_a_400_not_a_500(
    api_client: APIClient, auth_client: APIClient, authenticated: bool
) -> None:
    """JSON nested far too deep (100,000 levels, 200 KB) is a parse error, anonymously too."""
    url, client = (LIST_URL, auth_client) if authenticated else (reverse("api:token"), api_client)
    body = "[" * 100_000 + "]" * 100_000

    response = client.post(url, body, content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "parse_error"
    assert f"nested more than {MAX_DEPTH} levels deep" in response.data["detail"]


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"{}", 1),
        (b'{"title": "x", "tags": [1, {"a": [2]}]}', 4),
        (b'{"title": "[[[[{", "author": "\\" }', 1),
        (b'["say \\"[[\\"", []]', 2),
    ],
)
def test_nesting_depth_skips_brackets_inside_strings(body: bytes, depth: int) -> None:
    """Only brackets outside strings (escaped quotes included) count towards the depth."""
    assert nesting_depth(body) == depth


def test_unsupported_media_type_is_json_415(auth_client: APIClient) -> None:
    """A body in a format the API does not parse is a 415 in the shared shape."""
    response = auth_client.post(LIST_URL, "<book/>", content_type="application/xml")

    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    assert response.data["code"] == "unsupported_media_type"


@pytest.mark.django_db
def test_too_many_requests_get_429_with_retry_after(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the anonymous rate, requests get 429 and a Retry-After header in seconds."""
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "2/minute")
    # Mid-window, so the requests cannot straddle the start of a new minute.
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: 1_000_000 * 60 + 30.0)

    codes = [api_client.get(LIST_URL).status_code for _ in range(3)]

    assert codes == [status.HTTP_200_OK, status.HTTP_200_OK, status.HTTP_429_TOO_MANY_REQUESTS]
    response = api_client.get(LIST_URL)
    assert response.data["code"] == "throttled"
    assert int(response["Retry-After"]) == 30


def api_exception_classes() -> set[type[exceptions.APIException]]:
    """Every loaded subclass of DRF's APIException, at any depth."""
    found: set[type[exceptions.APIException]] = set()
    unvisited = [exceptions.APIException]
    while unvisited:
        for subclass in unvisited.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                unvisited.append(subclass)
    return found


def test_every_api_exception_code_is_listed() -> None:
    """Each API exception's default code is in ERROR_CODES; invalid input is always `invalid`."""
    import_module(settings.ROOT_URLCONF)  # every view, and so every authentication class
    codes = {
        exception.default_code
        for exception in api_exception_classes()
        if not issubclass(exception, exceptions.ValidationError)
    }

    assert {"throttled", "database_unavailable"} <= codes  # DRF's and the project's were found
    assert codes <= {code for code, _ in errors.ERROR_CODES}
