"""One JSON shape for every error the API returns, 404 and 500 included.

    {"status": 400, "code": "invalid", "detail": "Invalid input.",
     "errors": {"isbn": ["A book with this ISBN already exists."]}}

``errors`` appears only for invalid input: each field's messages, with
problems that belong to no single field under ``non_field_errors``.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler

from api_core.database_errors import is_unavailable

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Every `code` an error body can carry, with its meaning. The schema lists
# them as an enum, so that clients generated from it know each one; a new
# code is one more line here (tests fail on a code that is missing).
ERROR_CODES: tuple[tuple[str, str], ...] = (
    ("invalid", "Invalid input: `errors` holds the messages per field."),
    ("parse_error", "The body is not valid JSON, or is nested too deeply."),
    ("not_authenticated", "The operation needs credentials and none were sent."),
    ("authentication_failed", "The credentials sent are invalid."),
    # The chosen authentication's own codes (config/settings/auth.py).
    *settings.AUTH_ERROR_CODES,
    ("permission_denied", "Signed in, but not allowed to do this."),
    ("not_found", "No such object, page or endpoint."),
    ("method_not_allowed", "The path does not take this method."),
    ("not_acceptable", "The Accept header asks for a format the API does not produce."),
    ("unsupported_media_type", "The body is not JSON (Content-Type: application/json)."),
    ("throttled", "Too many requests: retry after the Retry-After header's seconds."),
    ("request_too_large", "The body is larger than the server accepts (a 413)."),
    # Refused by gunicorn or nginx before Django reads the request (README.md, "Limits").
    ("uri_too_long", "The path and query string are longer than the server accepts (a 414)."),
    ("headers_too_large", "Too many headers, or one too large (a 431)."),
    ("too_many_fields", "The request has more parameters than the server accepts."),
    ("disallowed_host", "The Host header names a host this server does not serve."),
    ("bad_request", "The request is malformed in a way no other code describes."),
    ("server_error", "An unexpected error; its traceback is in the server's log."),
    ("database_unavailable", "The database is unavailable: retry after Retry-After's seconds."),
    ("service_unavailable", "No server behind the proxy answered in time (502, 503, 504): retry."),
)
# Seconds a client should wait before retrying while the database is down.
DATABASE_RETRY_AFTER = 5


class DatabaseUnavailable(exceptions.APIException):
    """The database could not be reached: a 503 the client may retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = "The database is unavailable. Try again shortly."


def error_body(
    status_code: int, code: str, detail: str, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return body


def field_errors(detail: Any) -> dict[str, list[str]]:
    """Flatten a ValidationError's detail into messages per field."""
    if isinstance(detail, dict):
        return {
            str(field): [str(message) for message in flatten(messages)]
            for field, messages in detail.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: [str(m) for m in flatten(detail)]}


def flatten(detail: Any) -> list[Any]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in flatten(value)]
    return [detail]


def as_api_exception(exc: Exception) -> Exception:
    """Django's 404 and 403, and an unreachable database, as API exceptions.

    Only a refused, lost or closed connection is a 503: any other database
    error ("no such table" after a forgotten migration) is a bug, left to
    Django's logged 500 rather than disguised as an outage to retry.
    """
    if isinstance(exc, (OperationalError, InterfaceError)) and is_unavailable(exc):
        logger.warning("The database is unavailable: %s", exc, exc_info=exc)
        return DatabaseUnavailable()
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (status codes, headers such as Retry-After), with the shared body."""
    exc = as_api_exception(exc)
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return None  # not an API error: Django's 500 handling (below) takes over
    if isinstance(exc, ValidationError):
        response.data = error_body(
            response.status_code, "invalid", "Invalid input.", field_errors(exc.detail)
        )
    else:
        detail: Any = exc.detail
        if isinstance(detail, dict):  # e.g. simplejwt's {"detail": ..., "code": ...}
            message, code = detail.get("detail", exc.default_detail), detail.get("code")
        else:
            message, code = detail, getattr(detail, "code", None)
        response.data = error_body(
            response.status_code, str(code or exc.default_code), str(message)
        )
    if isinstance(exc, DatabaseUnavailable):
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: JSON under /api/, Django's page elsewhere.

    Django raises these while reading the request, in middleware or in a
    view (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, more parameters than
    DATA_UPLOAD_MAX_NUMBER_FIELDS, a Host not in ALLOWED_HOSTS), and DRF's
    exception handler leaves them to Django. A body over the limit is a 413,
    the status meant for it, where Django says 400.
    """
    if not request.path.startswith(API_PREFIX):
        return defaults.bad_request(request, exception)
    status_code: int = status.HTTP_400_BAD_REQUEST
    code, detail = "bad_request", "Bad request."
    if isinstance(exception, RequestDataTooBig):
        status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        code = "request_too_large"
        detail = f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
    elif isinstance(exception, TooManyFieldsSent):
        code = "too_many_fields"
        detail = f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} parameters."
    elif isinstance(exception, DisallowedHost):
        code = "disallowed_host"
        detail = "The Host header names a host this server does not serve."
    return JsonResponse(error_body(status_code, code, detail), status=status_code)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        forbidden = exceptions.PermissionDenied()
        return JsonResponse(
            error_body(status.HTTP_403_FORBIDDEN, forbidden.default_code, str(forbidden.detail)),
            status=status.HTTP_403_FORBIDDEN,
        )
    return defaults.permission_denied(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: JSON under /api/, Django's page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            error_body(status.HTTP_404_NOT_FOUND, "not_found", "No such API endpoint."),
            status=status.HTTP_404_NOT_FOUND,
        )
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/, Django's page elsewhere. The traceback goes to the log."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(
            error_body(
                status.HTTP_500_INTERNAL_SERVER_ERROR, "server_error", "A server error occurred."
            ),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return defaults.server_error(request)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response (for the OpenAPI schema)."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.ChoiceField(
        choices=ERROR_CODES, help_text="A stable, machine-readable code, one of these:"
    )
    detail = serializers.CharField(help_text="A message for people.")
    # Named like Serializer.errors, but the serializer metaclass moves declared
    # fields into _declared_fields, so the property is not shadowed.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Invalid input only: the messages for each field in error.",
    )
