"""A bake served by gunicorn with several workers, and the anonymous throttle measured."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import tasks
from tests.support import free_port, wait_for

REDIS = {"host": "127.0.0.1", "port": int(os.environ.get("TEST_REDIS_PORT", "6379"))}
# A database index of its own on the machine's Redis, emptied before use.
REDIS_URL = f"redis://{REDIS['host']}:{REDIS['port']}/11"
RATE = 60
REQUESTS = 200
# More than config/gunicorn.py's default (at most 4), so that counting the
# workers proves GUNICORN_CMD_ARGS reaches gunicorn over the config file.
WORKERS = 5


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def worker_count(master_pid: int, expected: int, timeout: float = 30) -> int:
    """The gunicorn master's child processes, once there are ``expected`` (or at the timeout)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    deadline = time.monotonic() + timeout
    while True:
        count = len(children.read_text().split())
        if count == expected or time.monotonic() > deadline:
            return count
        time.sleep(0.2)


def start_of_a_window(seconds: int = 60, margin: float = 20) -> None:
    """Wait, if need be, until at least ``margin`` seconds of the current fixed window remain."""
    into = time.time() % seconds
    if into > seconds - margin:
        time.sleep(seconds - into + 0.5)


class Gunicorn:
    """Serves one bake under gunicorn, once per call, each time with its own environment."""

    def __init__(self, project: Path, python: str, env: dict[str, str], workers: int) -> None:
        self.project = project
        self.python = python
        self.env = env
        self.workers = workers
        self.servers: list[subprocess.Popen[bytes]] = []
        # Each base URL's gunicorn master, for tests that signal it or its workers.
        self.masters: dict[str, int] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def __call__(self, extra: dict[str, str], log: Path | None = None) -> str:
        """Serve with ``extra`` over the environment (its console output in ``log``, if
        given); return the base URL once it answers with every worker up."""
        if "REDIS_URL" in extra:
            flush = "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()"
            subprocess.run([self.python, "-c", flush, extra["REDIS_URL"]], check=True)
        port = free_port()
        output = log.open("wb") if log else subprocess.DEVNULL
        server = subprocess.Popen(
            [self.python, "-m", "gunicorn", "--config", "config/gunicorn.py", "config.wsgi"],
            cwd=self.project,
            env={**self.env, **extra, "PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.servers.append(server)
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/health/live", server=server), f"gunicorn did not answer at {base}"
        assert worker_count(server.pid, self.workers) == self.workers, "GUNICORN_CMD_ARGS --workers"
        self.masters[base] = server.pid
        self.processes[base] = server
        return base

    def stop(self) -> None:
        for server in self.servers:
            # Its whole process group, unless a test has already stopped every process.
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


@contextmanager
def gunicorn_served(project: Path, workers: int = WORKERS) -> Iterator[Gunicorn]:
    """A SQLite bake, installed and migrated; calling what this yields serves it under
    gunicorn with ``workers`` workers and the given extra environment, and returns its
    base URL."""
    python = str(tasks.bin_path(tasks.install_project(project, sys.executable), "python"))
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "REDIS_URL"}},
        "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_THROTTLE_ANON": f"{RATE}/minute",
        # Metrics on a port of their own for each server (tests that read them set one).
        "DJANGO_METRICS_PORT": "0",
        "GUNICORN_CMD_ARGS": f"--workers {workers} --access-logfile /dev/null",
    }
    subprocess.run(
        [python, "manage.py", "migrate", "--verbosity", "0"],
        cwd=project,
        env={**env, "REDIS_URL": REDIS_URL},
        check=True,
    )
    gunicorn = Gunicorn(project, python, env, workers)
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


def let_through(base: str) -> int:
    """How many of REQUESTS anonymous reads of the book list, sent by 8 clients at once within
    one window (so that every worker gets some), got 200."""
    start_of_a_window()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(get_status, [f"{base}/api/v1/books/"] * REQUESTS))
    assert set(codes) <= {200, 429}, codes
    return codes.count(200)
