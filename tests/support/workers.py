"""Worker processes of a bake, and imports sent to it over HTTP: for tests and benchmarks."""

import itertools
import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.support.databases import Baked
from tests.support.docker import upload

LOG_NUMBERS = itertools.count()
# Production-like (DEBUG off); a dead worker elsewhere noticed after 5 s; and a user
# rate that the polling of an import's state stays under.
WORKER_TEST_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_WORKER_LOST_AFTER": "5",
    "DJANGO_THROTTLE_USER": "100000/minute",
}


def isbn13(serial: int) -> str:
    first = f"978{serial:09d}"
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first))
    return first + str(-total % 10)


def books_csv(serials: range) -> bytes:
    lines = ["title,subtitle,author,isbn"]
    lines += [f"Book {n},,Author {n % 97},{isbn13(n)}" for n in serials]
    return "\n".join(lines).encode()


def shell(baked: Baked, code: str) -> str:
    """The last line that ``code`` prints in the bake's Django shell."""
    return baked.run("manage.py", "shell", "-c", code).stdout.split("\n")[-2]


def staff_token(baked: Baked) -> str:
    return "Token " + shell(
        baked,
        "from django.contrib.auth.models import User\n"
        "from rest_framework.authtoken.models import Token\n"
        "user = User.objects.create_user('importer', is_staff=True)\n"
        "print(Token.objects.create(user=user).key)",
    )


@contextmanager
def workers(baked: Baked, count: int) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    """``count`` worker processes and their log files; stopped (SIGTERM) afterwards."""
    started = []
    with ExitStack() as stack:
        for _ in range(count):
            log = baked.project / f"worker-{next(LOG_NUMBERS)}.log"
            output = stack.enter_context(log.open("wb"))
            process = subprocess.Popen(
                [str(baked.python), "manage.py", "worker", "--interval", "0.2"],
                cwd=baked.project,
                env=baked.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            started.append((process, log))
        try:
            yield started
        finally:
            for process, _ in started:
                process.send_signal(signal.SIGTERM)
            for process, _ in started:
                process.wait(timeout=30)


def state(url: str, authorization: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"Authorization": authorization})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def send(base: str, authorization: str, name: str, content: bytes) -> str:
    status, location, body = upload(f"{base}/api/v1/imports/", "file", name, content, authorization)
    assert status == 202, body
    return base + location


def finished(url: str, authorization: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state(url, authorization)
        if current["status"] in {"succeeded", "failed"}:
            return current
        time.sleep(0.05)
    raise AssertionError(f"not finished in {timeout} s: {current}")


def counts(current: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("status", "rows_total", "rows_done", "created_count", "present_count")
    return (*(current[key] for key in keys), current["invalid_count"])


def owns(process: subprocess.Popen[bytes], pool: list[Any], nth: int) -> bool:
    """Whether ``process``'s log shows it started the ``nth`` import_books run of the pool."""
    events = []
    for candidate, log in pool:
        for line in log.read_text().splitlines():
            if "import_books state=RUNNING" in line:
                events.append((line[:23], candidate))
    events.sort(key=lambda event: event[0])
    return len(events) >= nth and events[nth - 1][1] is process
