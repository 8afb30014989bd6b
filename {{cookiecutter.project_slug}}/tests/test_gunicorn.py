"""gunicorn with config/gunicorn.py, for real: how it stops when told to (SIGTERM), and
how it refuses what is over its limits (config/gunicorn_workers.py)."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from http import HTTPStatus
from pathlib import Path

import pytest

from api_core.errors import ERROR_CODES

PROJECT_DIR = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def refused(port: int) -> bool:
    """Whether a new connection to ``port`` is refused (rather than taken or queued)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def serving(log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """gunicorn serving the test settings with one worker on a free port of 127.0.0.1, once
    its worker answers."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DJANGO_METRICS_PORT": "0",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1",
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.py", "config.wsgi"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: not refused(port), 30), log.read_text()
        yield server, port
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A gunicorn of this test's own, which it may stop."""
    with serving(tmp_path / "gunicorn.log") as served:
        yield served


@pytest.fixture(scope="module")
def shared_gunicorn(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """One gunicorn for the tests that only send it requests: a start costs a second."""
    with serving(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log") as served:
        yield served


def read_by_server(port: int, client: socket.socket) -> bool:
    """Whether the server's end of ``client``'s connection has read everything sent to it
    (its receive queue in /proc/net/tcp is empty). Where there is no /proc (macOS), a
    second's wait stands in for it."""
    table = Path("/proc/net/tcp")
    if not table.is_file():
        time.sleep(1)
        return True
    local = f"0100007F:{port:04X}"
    remote = f"0100007F:{client.getsockname()[1]:04X}"
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1:3] == [local, remote]:
            return int(fields[4].split(":")[1], 16) == 0
    return False


def test_stopping_gunicorn_refuses_new_connections_and_answers_the_request_in_flight(
    gunicorn: tuple[subprocess.Popen[bytes], int],
) -> None:
    """After SIGTERM a new connection is refused at once (a proxy tries another server),
    while a request already under way on a kept-alive connection is answered, with
    "Connection: close"; gunicorn then exits with status 0."""
    server, port = gunicorn
    with closing(http.client.HTTPConnection("127.0.0.1", port, timeout=10)) as kept:
        kept.request("GET", "/health/live")
        first = kept.getresponse()
        first.read()
        assert (first.status, first.will_close) == (HTTPStatus.OK, False)
        assert kept.sock is not None
        # The next request, all but the blank line that ends it; then wait for one of the
        # worker's threads to take it up (until then it is an idle kept-alive connection,
        # which a stopping worker closes after 2 s), so that gunicorn is reading it.
        kept.sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sock = kept.sock
        assert wait_until(lambda: read_by_server(port, sock), 10)

        server.send_signal(signal.SIGTERM)

        assert wait_until(lambda: refused(port), 5)
        kept.sock.sendall(b"\r\n")
        with closing(http.client.HTTPResponse(kept.sock, method="GET")) as last:
            last.begin()
            last.read()
    assert (last.status, last.will_close) == (HTTPStatus.OK, True)
    assert server.wait(timeout=30) == 0


def answer(port: int, request: bytes) -> tuple[int, str, bytes]:
    """Send raw bytes; the status, Content-Type and body that come back."""
    with closing(socket.create_connection(("127.0.0.1", port), timeout=10)) as sock:
        sock.sendall(request)
        with closing(http.client.HTTPResponse(sock)) as response:
            response.begin()
            return response.status, response.getheader("Content-Type", ""), response.read()


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /api/v1/books/?q=" + b"x" * 8200 + b" HTTP/1.1\r\n\r\n", 414, "uri_too_long"),
        (b"GET / HTTP/1.1\r\nX-Large: " + b"y" * 8200 + b"\r\n\r\n", 431, "headers_too_large"),
        (
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: z\r\n" % n for n in range(101)) + b"\r\n",
            431,
            "headers_too_large",
        ),
        (b"NOT HTTP\r\n\r\n", 400, "bad_request"),
    ],
    ids=["long-request-line", "large-header", "101-headers", "not-http"],
)
def test_gunicorn_refuses_in_the_api_error_body(
    shared_gunicorn: tuple[subprocess.Popen[bytes], int],
    request_bytes: bytes,
    status: int,
    code: str,
) -> None:
    """What gunicorn refuses before Django sees it is JSON like every API error."""
    _, port = shared_gunicorn

    got, content_type, body = answer(port, request_bytes)

    assert (got, content_type) == (status, "application/json")
    assert error_codes(body) == (status, code)


def error_codes(body: bytes) -> tuple[int, str]:
    """The status and code of an API error body, which has exactly its three keys."""
    decoded = json.loads(body)
    assert set(decoded) == {"status", "code", "detail"}
    assert isinstance(decoded["detail"], str)
    assert decoded["code"] in {listed for listed, _ in ERROR_CODES}
    return decoded["status"], decoded["code"]


def test_a_request_line_under_the_limit_reaches_django(
    shared_gunicorn: tuple[subprocess.Popen[bytes], int],
) -> None:
    """A query string over gunicorn's default limit (4094), under the one set, reaches Django."""
    _, port = shared_gunicorn

    got, content_type, _ = answer(
        port, b"GET /health/live?q=" + b"x" * 6000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )

    assert (got, content_type) == (200, "application/json")
