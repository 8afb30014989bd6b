"""gunicorn with config/gunicorn.py, for real: how it stops when told to (SIGTERM)."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from http import HTTPStatus
from pathlib import Path

import pytest

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


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """gunicorn serving the test settings with one worker on a free port of 127.0.0.1."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DJANGO_METRICS_PORT": "0",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1",
    }
    log = tmp_path / "gunicorn.log"
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
        # The next request, all but the blank line that ends it; a moment for one of the
        # worker's threads to take it up (until then it is an idle kept-alive connection,
        # which a stopping worker closes after 2 s), so that gunicorn is reading it.
        kept.sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(1)

        server.send_signal(signal.SIGTERM)

        assert wait_until(lambda: refused(port), 5)
        kept.sock.sendall(b"\r\n")
        with closing(http.client.HTTPResponse(kept.sock, method="GET")) as last:
            last.begin()
            last.read()
    assert (last.status, last.will_close) == (HTTPStatus.OK, True)
    assert server.wait(timeout=30) == 0
