"""Restarts under load: gunicorn told to stop, and the replicas behind nginx restarted in turn.

Both scenarios run a bounded KeepAliveLoad (tests/support/load.py) of
CONNECTIONS keep-alive clients and return what it saw; the tests assert on
it and `make reliability --only restarts` prints it.
"""

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from tests.support.docker import Compose, http, run
from tests.support.gunicorn import REDIS
from tests.support.load import KeepAliveLoad, Request, Tally

CONNECTIONS = 16
# A database index of its own on the machine's Redis (the throttle's counts).
REDIS_URL = f"redis://{REDIS['host']}:{REDIS['port']}/14"
# No request of the load is throttled: the figures count failures, not 429s.
UNTHROTTLED = {"DJANGO_THROTTLE_ANON": "1000000/minute", "DJANGO_THROTTLE_USER": "1000000/minute"}
# gunicorn's graceful_timeout (config/gunicorn.py): the longest a drain may take.
GRACEFUL_TIMEOUT = 20
# What docker-compose.yml gives web before killing it (stop_grace_period).
STOP_GRACE_PERIOD = 30
# Requests sent before the first stop, and after each replica is back.
WARM_UP = 300


@dataclass
class SigtermFigures:
    tally: Tally
    exit_code: int
    # From SIGTERM to the master's exit.
    seconds: float


def sigterm_under_load(base: str, server: subprocess.Popen[bytes]) -> SigtermFigures:
    """CONNECTIONS clients read the book list from the gunicorn at ``base``, whose master
    gets SIGTERM once WARM_UP requests are sent; each client reconnects after "Connection:
    close" and stops when the server refuses it (it has stopped listening)."""
    load = KeepAliveLoad(base, "/api/v1/books/", connections=CONNECTIONS, seconds=90).start()
    load.wait_for_sent(WARM_UP)
    started = time.monotonic()
    os.kill(server.pid, signal.SIGTERM)
    tally = load.join()
    exit_code = server.wait(timeout=GRACEFUL_TIMEOUT + 10)
    return SigtermFigures(tally, exit_code, round(time.monotonic() - started, 1))


MAKE_TOKEN = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user = User.objects.create_user("restarts", password="restarts-password-123")
print(Token.objects.create(user=user).key)
"""
# One request in WRITE_EVERY creates a book: a POST, which nginx never sends twice.
WRITE_EVERY = 4


def isbn13(serial: int) -> str:
    first = f"979{serial:09d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)


def reads_and_writes(token: str) -> Callable[[int], Request]:
    """The load's plan: the book list, and every WRITE_EVERY-th request a new book."""
    headers = {"Authorization": f"Token {token}"}

    def plan(number: int) -> Request:
        if number % WRITE_EVERY:
            return "GET", "/api/v1/books/?page_size=5", headers, None
        book = {"title": f"Restart {number}", "author": "R. Estart", "isbn": isbn13(number)}
        body = json.dumps(book).encode()
        return "POST", "/api/v1/books/", {**headers, "Content-Type": "application/json"}, body

    return plan


def inspect(container: str, template: str) -> str:
    return run(["docker", "inspect", "--format", template, container]).stdout.strip()


def web_containers(stack: Compose) -> list[str]:
    """The names of the stack's web replicas."""
    result = stack("ps", "--format", "json", "web")
    return sorted(json.loads(line)["Name"] for line in result.stdout.splitlines() if line.strip())


def served_since(container: str, since: str) -> bool:
    """Whether the container's log has an access line (a request served) since ``since``."""
    result = run(["docker", "logs", "--since", since, container])
    # The container's stdout and stderr, which gunicorn and Django log to.
    for line in (result.stdout + result.stderr).splitlines():
        with suppress(ValueError):
            if json.loads(line).get("logger") == "access":
                return True
    return False


def serving_again(container: str, load: KeepAliveLoad, timeout: float = 180) -> float:
    """Wait until a restarted replica is healthy and has served the load (an access line
    in its log since it started); return how long that took."""
    started = time.monotonic()
    since = inspect(container, "{{.State.StartedAt}}")
    while True:
        healthy = inspect(container, "{{.State.Health.Status}}") == "healthy"
        if healthy and served_since(container, since):
            return round(time.monotonic() - started, 1)
        assert time.monotonic() - started < timeout, f"{container} did not serve again"
        assert load.tally.sent < load.requests, "the load ended before the restarts did"
        time.sleep(0.5)


@dataclass
class RollingFigures:
    tally: Tally
    replicas: int
    # Each replica's time from `docker restart` to serving the load again.
    restart_seconds: list[float]
    books_created: int
    books_in_database: int


def rolling_restart_under_load(stack: Compose) -> RollingFigures:
    """CONNECTIONS clients read and write through nginx while each web replica in turn is
    restarted (`docker restart`, with the container's own stop timeout) and serves again;
    nginx must not refuse, and every request must be answered."""
    token = stack(
        "exec", "-T", "--index", "1", "web", "python", "manage.py", "shell", "--no-imports",
        "-c", MAKE_TOKEN,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    webs = web_containers(stack)
    for name in webs:
        stop_timeout = inspect(name, "{{.Config.StopTimeout}}")
        assert stop_timeout == str(STOP_GRACE_PERIOD), f"{name}: stop timeout {stop_timeout}"
    load = KeepAliveLoad(
        stack.url(""),
        reads_and_writes(token),
        connections=CONNECTIONS,
        requests=200_000,
        seconds=600,
        stop_when_refused=False,
        refusals_fail=True,
    ).start()
    restart_seconds = []
    try:
        load.wait_for_sent(WARM_UP)
        for name in webs:
            started = time.monotonic()
            run(["docker", "restart", name], timeout=STOP_GRACE_PERIOD + 30)
            serving_again(name, load)
            restart_seconds.append(round(time.monotonic() - started, 1))
            load.wait_for_sent(load.tally.sent + WARM_UP)
    finally:
        load.stop()
    tally = load.join()
    status, body = http("GET", stack.url("/api/v1/books/?page_size=1"))
    assert status == 200, body
    return RollingFigures(tally, len(webs), restart_seconds, tally.statuses[201], body["count"])
