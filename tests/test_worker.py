"""Background work for real: a bake's imports run on worker processes on each real database.

Each database's bake is served by runserver with two `manage.py worker`
processes beside it. A file of books sent to the API is imported by a worker
(not the web process); a worker killed with SIGKILL in the middle of an
import leaves it to the other, which resumes it: every book exists once and
the counts are those of one run. Imports sent together are each run by
exactly one worker. Server databases skip where the server is unreachable,
and fail instead when the CI environment variable is set.
"""

import itertools
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_cookies.plugin import Cookies

from tests.support import Combination, bake, record_stat, require_server, served, tasks
from tests.support.databases import SERVER_NAMES, SERVERS, Baked, baked_env, own_database
from tests.support.docker import upload

pytestmark = pytest.mark.slow

DATABASES = tuple(Combination(database, "split") for database in tasks.DATABASES)
# A dead worker on the same host is noticed at the next recovery pass, every 1/5 of this.
LOST_AFTER = 5
TIMED_ROWS = 10_000
KILLED_ROWS = 20_000
LOG_NUMBERS = itertools.count()


def isbn13(serial: int) -> str:
    first = f"978{serial:09d}"
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first))
    return first + str(-total % 10)


def books_csv(serials: range) -> bytes:
    lines = ["title,subtitle,author,isbn"]
    lines += [f"Book {n},,Author {n % 97},{isbn13(n)}" for n in serials]
    return "\n".join(lines).encode()


@pytest.fixture(params=[pytest.param(combo, id=combo.database) for combo in DATABASES])
def baked(request: pytest.FixtureRequest, cookies: Cookies, tools_venv: Path) -> Iterator[Baked]:
    """A migrated bake of the database, with a staff user, on a database of its own."""
    combo: Combination = request.param
    server = SERVERS.get(combo.database)
    if server is not None:
        require_server(SERVER_NAMES[combo.database], server["host"], server["port"])
    project = bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = {**baked_env(), "DJANGO_DEBUG": "false", "DJANGO_WORKER_LOST_AFTER": str(LOST_AFTER)}
    with own_database(python, combo.database, env):
        baked = Baked(combo, project, python, env)
        baked.run("manage.py", "migrate", "--verbosity", "0")
        yield baked


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


def test_imports_run_on_workers_and_survive_a_killed_worker(baked: Baked) -> None:
    """A 10,000-row import runs on a worker; a worker killed mid-import leaves a 20,000-row
    import to the other, which resumes it: no duplicate, none lost, one run's counts; four
    imports sent together each run on exactly one worker."""
    authorization = staff_token(baked)
    with served(baked.project, baked.python, baked.env) as base, workers(baked, 2) as pool:
        sent = time.monotonic()
        url = send(base, authorization, "timed.csv", books_csv(range(TIMED_ROWS)))
        done = finished(url, authorization)
        seconds = time.monotonic() - sent
        assert counts(done) == ("succeeded", TIMED_ROWS, TIMED_ROWS, TIMED_ROWS, 0, 0)

        serials = range(1_000_000, 1_000_000 + KILLED_ROWS)
        url = send(base, authorization, "killed.csv", books_csv(serials))
        deadline = time.monotonic() + 60
        while (current := state(url, authorization))["rows_done"] == 0:
            assert time.monotonic() < deadline, current
            time.sleep(0.01)
        # The worker that ran the first import may be the one running this one.
        victim = next(process for process, _ in pool if owns(process, pool, 2))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        at_kill = state(url, authorization)
        assert at_kill["status"] == "running", at_kill
        assert 0 < at_kill["rows_done"] < KILLED_ROWS
        done = finished(url, authorization)
        assert counts(done) == ("succeeded", KILLED_ROWS, KILLED_ROWS, KILLED_ROWS, 0, 0)
        [survivor_log] = [log for process, log in pool if process is not victim]
        resumed = survivor_log.read_text()
        assert "queued again" in resumed
        assert f"resumes after row {at_kill['rows_done']} (attempt 2)" in resumed

        # Four imports at once on two workers (the survivor and a new one).
        with workers(baked, 1) as more:
            urls = [
                send(
                    base,
                    authorization,
                    f"batch-{n}.csv",
                    books_csv(range(n * 1000, n * 1000 + 500)),
                )
                for n in range(2_000, 2_004)
            ]
            assert [counts(finished(u, authorization))[0] for u in urls] == ["succeeded"] * 4
            logs = [log for _, log in (*pool, *more)]
        runs = sum(log.read_text().count("import_books state=RUNNING") for log in logs)

    assert runs == 1 + 2 + 4  # each task once; the killed import twice (killed, resumed)
    assert (
        shell(
            baked,
            "from books.models import Book\n"
            "from imports.models import ImportJob\n"
            "print(Book.objects.count(), Book.objects.values('isbn').distinct().count(),"
            " sorted(ImportJob.objects.values_list('attempts', flat=True)))",
        )
        == f"{TIMED_ROWS + KILLED_ROWS + 2000} {TIMED_ROWS + KILLED_ROWS + 2000} [1, 1, 1, 1, 1, 2]"
    )
    record_stat(
        f"worker {baked.combo.database}",
        {"import rows/s": round(TIMED_ROWS / seconds), "rows done at kill": at_kill["rows_done"]},
    )


def owns(process: subprocess.Popen[bytes], pool: list[Any], nth: int) -> bool:
    """Whether ``process``'s log shows it started the ``nth`` import_books run of the pool."""
    events = []
    for candidate, log in pool:
        for line in log.read_text().splitlines():
            if "import_books state=RUNNING" in line:
                events.append((line[:23], candidate))
    events.sort(key=lambda event: event[0])
    return len(events) >= nth and events[nth - 1][1] is process
