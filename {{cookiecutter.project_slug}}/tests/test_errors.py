"""Errors under /api/ are JSON of one shape; throttling answers 429 with Retry-After."""

import json
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import resolve, reverse
from rest_framework import exceptions, status
from rest_framework.test import APIClient

from api_core import errors
from api_core.parsers import MAX_DEPTH, nesting_depth
from api_core.throttling import AnonRateThrottle
from tests.factories import UserFactory

LIST_URL = reverse("api:book-list")
# Django's own 400 page, which paths outside /api/ keep.
BAD_REQUEST_PAGE = b"<h1>Bad Request (400)</h1>"


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
def test_unreachable_database_is_json_503_with_retry_after(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    unreachable_database: BaseDatabaseWrapper,
) -> None:
    """A database that refuses the connection answers 503 with Retry-After, not a 500."""
    view_class: Any = resolve(LIST_URL).func.cls  # type: ignore[attr-defined]
    monkeypatch.setattr(
        view_class, "list", lambda *args, **kwargs: unreachable_database.ensure_connection()
    )

    response = Client().get(LIST_URL)

    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json()["code"] == "database_unavailable"
    assert response["Retry-After"] == "5"
    assert "The database is unavailable" in caplog.text


@pytest.mark.django_db
def test_database_error_that_is_a_bug_is_json_500_not_503(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A query the database rejects (a forgotten migration, say) is a logged 500, not an outage."""

    def query_a_missing_column(*args: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM books_book")

    view_class: Any = resolve(LIST_URL).func.cls  # type: ignore[attr-defined]
    monkeypatch.setattr(view_class, "list", query_a_missing_column)

    response = Client(raise_request_exception=False).get(LIST_URL)

    assert response.status_code == status.HTTP_500_INTERNAL_SERVER_ERROR
    assert response.json()["code"] == "server_error"
    assert "Retry-After" not in response
    assert "no_such_column" in caplog.text


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


def json_body_of(size: int) -> str:
    """A valid JSON object of exactly ``size`` bytes."""
    frame = '{"title": ""}'
    return frame.replace('""', '"' + "x" * (size - len(frame)) + '"')


@pytest.mark.django_db
@pytest.mark.parametrize("authenticated", [False, True], ids=["token-endpoint", "book-list"])
def test_json_body_over_the_size_limit_is_json_413(
    api_client: APIClient, auth_client: APIClient, authenticated: bool
) -> None:
    """A JSON body one byte over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, anonymously too."""
    url, client = (LIST_URL, auth_client) if authenticated else (reverse("api:token"), api_client)
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit is not None

    response = client.post(url, json_body_of(limit + 1), content_type="application/json")

    assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 413,
        "code": "request_too_large",
        "detail": f"The request body is larger than {limit} bytes.",
    }


def test_body_declared_over_the_size_limit_is_refused_unread(api_client: APIClient) -> None:
    """A Content-Length over the limit is refused before a byte of the body is read.

    The test client's payload holds two bytes and fails any read past them,
    so a server that read the declared length would raise instead of answering.
    """
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit is not None

    response = api_client.post(
        reverse("api:token"), "{}", content_type="application/json", CONTENT_LENGTH=str(limit + 1)
    )

    assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    assert response.json()["code"] == "request_too_large"


@pytest.mark.django_db
def test_json_body_at_the_size_limit_is_parsed(auth_client: APIClient) -> None:
    """A JSON body of exactly DATA_UPLOAD_MAX_MEMORY_SIZE bytes reaches validation."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit is not None

    response = auth_client.post(LIST_URL, json_body_of(limit), content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "invalid"
    assert "title" in response.data["errors"]


def too_many_parameters() -> str:
    """A query string or form body one parameter over DATA_UPLOAD_MAX_NUMBER_FIELDS.

    Names without values keep it short enough (2,001 bytes) for a real
    server's request line: gunicorn refuses lines over 4,094 bytes itself.
    """
    return "&".join(["p"] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))


def test_too_many_parameters_under_api_is_json_400(api_client: APIClient) -> None:
    """More query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS is a 400 in the shared shape.

    Under /api/ only the query string is parsed by Django (request bodies go
    to DRF's parsers), so that is where the limit applies.
    """
    response = api_client.get(f"{LIST_URL}?{too_many_parameters()}")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 400,
        "code": "too_many_fields",
        "detail": (
            f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters."
        ),
    }


def test_disallowed_host_under_api_is_json_400(api_client: APIClient) -> None:
    """A Host header not in ALLOWED_HOSTS is a 400 in the shared shape."""
    response = api_client.get(LIST_URL, headers={"host": "attacker.example"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": 400,
        "code": "disallowed_host",
        "detail": "The Host header names a host this server does not serve.",
    }


@pytest.mark.parametrize("problem", ["body-over-the-limit", "too-many-fields", "disallowed-host"])
def test_bad_requests_outside_api_keep_django_html_400(problem: str) -> None:
    """Outside /api/ the same three problems get Django's HTML 400 page (the admin login here)."""
    client = Client()
    login = reverse("admin:login")
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit is not None

    if problem == "body-over-the-limit":
        body = "username=" + "x" * limit
        response = client.post(login, body, content_type="application/x-www-form-urlencoded")
    elif problem == "too-many-fields":
        body = too_many_parameters()
        response = client.post(login, body, content_type="application/x-www-form-urlencoded")
    else:
        response = client.get(login, headers={"host": "attacker.example"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"].startswith("text/html")
    assert BAD_REQUEST_PAGE in response.content


def test_other_bad_requests_under_api_are_json_400(rf: Any) -> None:
    """Any other request Django finds suspicious is a plain bad_request under /api/."""
    response = errors.bad_request(rf.get(LIST_URL), SuspiciousOperation("odd"))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": 400,
        "code": "bad_request",
        "detail": "Bad request.",
    }


def test_permission_denied_under_api_is_json_403(rf: Any) -> None:
    """Django's PermissionDenied raised outside DRF is a 403 in the shared shape under /api/."""
    response = errors.permission_denied(rf.get(LIST_URL), PermissionDenied())

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "status": 403,
        "code": "permission_denied",
        "detail": "You do not have permission to perform this action.",
    }


@pytest.mark.django_db
def test_permission_denied_outside_api_stays_html_403() -> None:
    """Outside /api/ a 403 stays Django's HTML page (a staff user with no rights in the admin)."""
    client = Client()
    client.force_login(UserFactory.create(is_staff=True))

    response = client.get(reverse("admin:books_book_add"))

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>403 Forbidden</h1>" in response.content


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
