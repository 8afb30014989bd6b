"""Requests over the front servers' limits, and what a bake answers to each.

Each case is sent over a connection of its own, as raw as need be (a body
can be declared and not sent, a request line can be garbage), and the answer
is kept whole: status, Content-Type and the body decoded as JSON (or None
when it is not JSON). Sent to gunicorn directly (tests/test_limits.py) and
through the replicas' nginx (tests/test_restarts.py).
"""

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# config/gunicorn.py's limit_request_line and limit_request_field_size; the
# replicas' nginx has 8k buffers (deploy/nginx.conf).
LINE_LIMIT = 8190
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) and nginx's client_max_body_size.
JSON_BODY_LIMIT = 2_621_440
PROXY_BODY_LIMIT = 11 * 1024 * 1024


@dataclass
class Answer:
    status: int
    content_type: str
    body: Any

    def is_api_error(self, code: str) -> bool:
        """The API's error body (api_core/errors.py) with this status and code, as JSON."""
        return (
            self.content_type == "application/json"
            and isinstance(self.body, dict)
            and set(self.body) == {"status", "code", "detail"}
            and (self.body["status"], self.body["code"]) == (self.status, code)
            and isinstance(self.body["detail"], str)
        )


def decoded(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def send(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    declared: int | None = None,
) -> Answer:
    """One request; ``declared`` sends that Content-Length and no body at all."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        length = declared if declared is not None else len(body or b"")
        if body is not None or declared is not None:
            connection.putheader("Content-Length", str(length))
        connection.endheaders()
        if body is not None and declared is None:
            connection.send(body)
        response = connection.getresponse()
        return Answer(
            response.status, response.getheader("Content-Type", ""), decoded(response.read())
        )
    finally:
        connection.close()


def send_raw(base: str, request: bytes) -> Answer:
    """Bytes that are not HTTP; the answer parsed from what comes back."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return Answer(
            response.status, response.getheader("Content-Type", ""), decoded(response.read())
        )


def json_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    return b'{"username": "' + b"a" * (size - 16) + b'"}'


def over_the_limits(base: str) -> dict[str, Answer]:
    """Each case's answer from the server at ``base``."""
    books = "/api/v1/books/?search="
    json_type = {"Content-Type": "application/json"}
    multipart = {"Content-Type": "multipart/form-data; boundary=limits"}
    return {
        # Over gunicorn's default 4094 bytes, under the limits set.
        "URL of 6000 bytes": send(base, "GET", books + "x" * 6000),
        "URL of 9000 bytes": send(base, "GET", books + "x" * 9000),
        "header of 9000 bytes": send(base, "GET", "/api/v1/books/", {"X-Large": "y" * 9000}),
        "101 headers": send(
            base, "GET", "/api/v1/books/", {f"X-Header-{n}": "z" for n in range(101)}
        ),
        "garbage request line": send_raw(base, b"NOT HTTP AT ALL\r\n\r\n"),
        # Over Django's JSON limit, under nginx's.
        "JSON body of 3 MiB": send(
            base, "POST", "/api/v1/auth/token/", json_type, json_body(3 * 1024 * 1024)
        ),
        # Over nginx's: declared and not sent (nginx refuses it unread, Django too).
        "upload declared 12 MiB": send(
            base, "POST", "/api/v1/imports/", multipart, declared=12 * 1024 * 1024
        ),
    }


def summary(answers: dict[str, Answer]) -> dict[str, str]:
    """Each case as "status code" (or "status content-type" when not the API's JSON)."""
    figures = {}
    for case, answer in answers.items():
        body = answer.body
        said = body["code"] if isinstance(body, dict) and "code" in body else answer.content_type
        figures[case] = f"{answer.status} {said}"
    return figures
