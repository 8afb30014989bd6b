"""Request ids and the access log: one line per request, every log line tagged with its id.

Each request gets an id: the caller's ``X-Request-ID`` when it is a UUID (with
or without dashes), a new one otherwise, so nothing a client sends unchecked
reaches the logs. The id is returned in the same response header and set on
every log record by ``RequestIdFilter`` (the console handler's filter) until
the response is closed: Django logs a 4xx response's warning ("Not Found")
after the middleware has returned, so the id must outlive the middleware.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

HEADER = "X-Request-ID"
# A UUID, dashed or not; fullmatch, so a trailing newline is not let through.
WELL_FORMED = re.compile(r"[0-9a-fA-F]{8}(?:-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}")
# Records logged outside a request (start-up, management commands) carry this.
NO_REQUEST = "-"

current_request_id: ContextVar[str] = ContextVar("current_request_id", default=NO_REQUEST)
# The request's trace id and span id, when traces are on (api_core/telemetry.py).
current_trace: ContextVar[tuple[str, str] | None] = ContextVar("current_trace", default=None)


def no_span_ids() -> tuple[str, str] | None:
    """Traces are off: no request has a span."""
    return None


# What gives the current span's ids; api_core.telemetry replaces it when traces start.
current_span_ids: Callable[[], tuple[str, str] | None] = no_span_ids

# One INFO record per request, named for what it holds.
access_logger = logging.getLogger("access")


def request_id_for(incoming: str) -> str:
    """The caller's id when it is well formed, a new UUID (32 hex digits) otherwise."""
    return incoming if WELL_FORMED.fullmatch(incoming) else uuid.uuid4().hex


def forget_request_id(**kwargs: Any) -> None:
    """request_finished receiver: the response is closed, later records belong to no request."""
    current_request_id.set(NO_REQUEST)
    current_trace.set(None)


class RequestIdFilter(logging.Filter):
    """Set ``request_id`` on every record: the current request's id, or "-" outside one;
    and, in a traced request, ``trace_id`` and ``span_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        trace_ids = current_trace.get()
        if trace_ids:
            record.trace_id, record.span_id = trace_ids
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line, for log collectors (production's and gunicorn's lines).

    Keys: time (ISO 8601, UTC), level, logger, message, the record's extra
    fields (``request_id``, in a traced request ``trace_id`` and ``span_id``,
    the access line's method, path, status and duration_ms) and, on errors,
    ``exc_info``: the traceback, in the same line.
    """

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
        )


class RequestLogMiddleware:
    """Give the request its id, return it in X-Request-ID and log one line when it ends."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        request_finished.connect(forget_request_id, dispatch_uid=__name__)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request.headers.get(HEADER, ""))
        current_request_id.set(request_id)
        current_trace.set(current_span_ids())
        started = time.perf_counter()
        # Django turns a view's exception into a 500 response before it gets
        # here (logging it on django.request, with this id and the traceback).
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        access_logger.info(
            "%s %s %s %sms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        response[HEADER] = request_id
        return response
