"""More than one process: throttle counts shared through Redis hold across gunicorn workers.

A default bake is served by gunicorn with 5 workers (asked for through
gunicorn's own GUNICORN_CMD_ARGS, and counted), and 200 anonymous
requests arrive within one throttle window. With production settings and
REDIS_URL pointing at the machine's Redis (a database index of its own),
exactly the configured 60 get through; with development settings and no
REDIS_URL (each worker counting alone, which production refuses), more do,
which shows the requests really were spread over the workers.

A Redis server of the test's own is then killed under traffic and started
again: the API keeps answering (throttling fails open, readiness says
"degraded"), and counts exactly again once the server is back.
"""

import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.support import bake, free_port, record_stat, require_server, require_tool
from tests.support.gunicorn import (
    RATE,
    REDIS,
    REDIS_URL,
    WORKERS,
    get_status,
    gunicorn_served,
    let_through,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def gunicorn(cookies: object, tools_venv: object) -> Iterator[Callable[[dict[str, str]], str]]:
    with gunicorn_served(bake(cookies, database="sqlite")) as serve:
        yield serve


def test_throttle_is_exact_across_workers_with_a_shared_cache(
    gunicorn: Callable[[dict[str, str]], str],
) -> None:
    """REDIS_URL: 60/minute lets exactly 60 of 200 requests through 5 workers; each worker
    counting alone lets more through."""
    require_server("Redis", REDIS["host"], REDIS["port"])

    shared = let_through(gunicorn({"REDIS_URL": REDIS_URL}))
    alone = let_through(gunicorn({"DJANGO_SETTINGS_MODULE": "config.settings.local"}))

    assert shared == RATE
    assert alone > RATE
    record_stat(
        "throttle",
        {f"{WORKERS} workers, shared cache": shared, f"{WORKERS} workers, per process": alone},
    )


def redis_server(port: int) -> subprocess.Popen[bytes]:
    """A Redis server of the test's own on ``port`` (the machine's stays untouched), once
    it answers."""
    path = require_tool(("redis-server",), "redis-server is not installed", "install it")
    server = subprocess.Popen(
        [path, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    pytest.fail(f"redis-server did not answer on port {port}")


def readiness(base: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"{base}/health/ready", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_cache_outage_under_traffic_degrades_and_recovers_without_a_restart(
    gunicorn: Callable[[dict[str, str]], str],
) -> None:
    """A real Redis stopped under traffic: no request fails (throttling lets them through),
    readiness says "degraded", and once a server is back on the port the throttle counts
    again, exactly, without restarting gunicorn."""
    port = free_port()
    cache = redis_server(port)
    base = gunicorn({"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    url = f"{base}/api/v1/books/"
    assert readiness(base) == (200, {"status": "ok", "database": "ok", "cache": "ok"})

    # Traffic from 4 clients while the server is killed.
    codes: list[int] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            codes.append(get_status(url))

    clients = [threading.Thread(target=client) for _ in range(4)]
    for thread in clients:
        thread.start()
    time.sleep(1)
    cache.kill()
    cache.wait()
    during = len(codes)
    # Twice the rate's worth of requests after the kill, which a working throttle would cut.
    deadline = time.monotonic() + 60
    while len(codes) - during < 2 * RATE and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    for thread in clients:
        thread.join()
    after_outage = codes[during:]
    degraded = readiness(base)
    unthrottled = let_through(base)

    cache = redis_server(port)
    try:
        recovered = let_through(base)
        back = readiness(base)
    finally:
        cache.kill()
        cache.wait()

    assert set(codes) <= {200, 429}, sorted(set(codes))
    assert after_outage.count(200) > RATE  # the outage lifted the limit, it refused nothing
    assert degraded == (200, {"status": "degraded", "database": "ok", "cache": "unavailable"})
    assert unthrottled > RATE
    assert recovered == RATE
    assert back[0] == 200
    assert back[1]["cache"] == "ok"
    record_stat(
        "cache outage",
        {
            "requests during the outage": len(after_outage),
            "failed": len([code for code in after_outage if code not in {200, 429}]),
            f"of 200 let through, cache down (rate {RATE})": unthrottled,
            "after it came back": recovered,
        },
    )
