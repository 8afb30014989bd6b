"""gunicorn's threaded worker, answering the requests it refuses itself in the API's JSON.

gunicorn reads the request line and headers before Django sees anything;
over its limits (config/gunicorn.py) or unreadable, it writes an HTML page
of its own. This worker writes the body every API error has instead
(api_core/errors.py), with the same status: 414, 431 or 400.
"""

import json
from typing import Any

from gunicorn import util
from gunicorn.http import errors
from gunicorn.workers.gthread import ThreadWorker

# A request that gunicorn cannot read as HTTP: 400, as gunicorn answers it.
MALFORMED = (
    errors.InvalidRequestLine,
    errors.InvalidRequestMethod,
    errors.InvalidHTTPVersion,
    errors.InvalidHeader,
    errors.InvalidHeaderName,
    errors.ObsoleteFolding,
    errors.InvalidChunkSize,
    errors.ChunkMissingTerminator,
    errors.InvalidChunkExtension,
    errors.InvalidSchemeHeaders,
    errors.InvalidProxyLine,
)
# Response headers the application sent wrong are subclasses of InvalidHeader,
# but its fault, not the client's: gunicorn's own 500 stays.
APPLICATION_ERRORS = (errors.InvalidResponseHeader, errors.InvalidResponseHeaderName)


def refusal(exc: Exception, cfg: Any) -> tuple[int, str, str, str] | None:
    """The status, reason, code and detail for a request gunicorn refuses; None for others."""
    if isinstance(exc, errors.LimitRequestLine):
        detail = (
            "The request line (method, path and query string) is over "
            f"{cfg.limit_request_line} bytes."
        )
        return 414, "URI Too Long", "uri_too_long", detail
    if isinstance(exc, errors.LimitRequestHeaders):
        detail = (
            f"The request has more than {cfg.limit_request_fields} headers, or one over "
            f"{cfg.limit_request_field_size} bytes."
        )
        return 431, "Request Header Fields Too Large", "headers_too_large", detail
    if isinstance(exc, MALFORMED) and not isinstance(exc, APPLICATION_ERRORS):
        return 400, "Bad Request", "bad_request", "The request is not valid HTTP."
    return None


def json_response(status: int, reason: str, code: str, detail: str) -> bytes:
    """A whole HTTP response carrying api_core.errors.error_body(status, code, detail).

    Built here, not imported: gunicorn's master loads this module before
    Django's settings, which api_core.errors needs.
    """
    body = json.dumps({"status": status, "code": code, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(ThreadWorker):
    """ThreadWorker (gthread) whose refusals are JSON; everything else is gunicorn's own."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: Exception) -> None:
        answer = refusal(exc, self.cfg)
        if answer is None:
            super().handle_error(req, client, addr, exc)
            return
        ip = (addr or ("",))[0]
        self.log.warning("Invalid request from ip=%s: %s", ip, exc)
        try:
            util.write_nonblock(client, json_response(*answer))
        except OSError:
            self.log.debug("Failed to send error message.")
