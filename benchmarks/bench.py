"""Benchmarks of the template and what it bakes: prints a markdown table, writes JSON.

    python3 tasks.py bench            # or: make bench
    python3 tasks.py bench --only api --databases sqlite

Figures, each the median of repeated runs where it says so (2 cores: medians
are steadier than means):

1. bake time of the default variant;
2. wall time of each database's baked test suite (`pytest -q`), median of 3
   with the default Hypothesis profile, and its number of tests; then once
   with the contract tests' full budget;
3. the API under gunicorn on loopback, list (a page of 20 of 1,000 books),
   item, PATCH and POST (token-authenticated, a new ISBN each), against bare
   Django views that read and write the same rows and return the same JSON in
   the same process (the ceiling of this stack). One worker with one thread
   pinned to one core, wrk on the other; API and ceiling in 5 alternating
   rounds of 4 s after a warm-up: CPU time per request of the server's
   processes (from /proc) and requests/s, each ceiling over API per round,
   medians with their ranges; p50/p99 latency and queries per request;
4. Docker: image size and size above the base image, cold build, warm
   rebuild after a code-only change, time from `up` to healthy; the API
   list behind nginx with 1 and 3 web replicas (compose.replicas.yml);
5. data scale: the book list's requests (first page, page 50, the last
   page by number, the first cursor page and the last page by cursor,
   search, ordering, author filter) and a bare `count(*)` at 1,000, 100,000
   and 1,000,000 rows seeded with SQL, on each database, with each figure's
   ratio to its 1,000-row value;
6. imports: rows per second of the import task (`import_books`, as a worker
   runs it) over a 10,000-row CSV, median of 3 on each database;
7. the cost of metrics: the API list's requests/s as shipped (metrics served
   by gunicorn's master) and with no metrics at all (no middleware, no SQL
   counting), two servers measured in 5 alternating rounds, medians.

`--profile [N]` writes pyinstrument profiles of N (500) requests of each API
endpoint per database (under ~/.cache/django-drf-docker/bench-profiles/):
where the API's time goes, beside the figures of 3.

Needs what the test suite needs (the database servers, Docker) plus wrk
(Debian: apt-get install wrk). Parts whose prerequisite is missing say so in
the table instead of a figure.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import tasks  # noqa: E402
from tests.support import wait_for  # noqa: E402
from tests.support.databases import SERVERS, own_database  # noqa: E402

RESULTS = ROOT / ".bench" / "bench.json"
# cookiecutter.json's choices, SQLite first: the one that needs no server.
DATABASES = tuple(sorted(tasks.choices("database"), key=lambda database: database != "sqlite"))
BOOKS = 1_000
WRK_SECONDS = 8
# 2 workers x 2 threads, and no worker recycling mid-measurement (a restart
# shows as a p99 spike).
GUNICORN_ARGS = "--workers 2 --threads 2 --max-requests 0"
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")

# Added to a bake for the benchmark only: the same JSON as the API's list and
# detail, straight from the rows, with nothing of DRF in between.
CEILING_URLS = '''
"""Bare views for the benchmark's ceiling, beside the project's own URLs."""

import json

from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from books.models import Book

FIELDS = ("id", "title", "subtitle", "author", "isbn", "created", "updated")
WRITABLE = ("title", "subtitle", "author", "isbn")


def ceiling_list(request):
    page = list(Book.objects.values(*FIELDS)[:20])
    return JsonResponse(
        {"count": Book.objects.count(), "next": None, "previous": None, "results": page}
    )


@csrf_exempt
def ceiling_detail(request, pk):
    if request.method == "PATCH":
        changes = {k: v for k, v in json.loads(request.body).items() if k in WRITABLE}
        Book.objects.filter(pk=pk).update(**changes)
    return JsonResponse(Book.objects.values(*FIELDS).get(pk=pk))


@csrf_exempt
def ceiling_create(request):
    fields = {k: v for k, v in json.loads(request.body).items() if k in WRITABLE}
    book = Book.objects.create(**fields)
    return JsonResponse(Book.objects.values(*FIELDS).get(pk=book.pk), status=201)


urlpatterns = [
    path("ceiling/books/", ceiling_list),
    path("ceiling/books/new/", ceiling_create),
    path("ceiling/books/<int:pk>/", ceiling_detail),
    path("", include("config.urls")),
]
'''
CEILING_SETTINGS = '''
"""Production settings plus the benchmark's ceiling views; throttling out of the way."""

import os

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
if os.environ.get("BENCH_WITHOUT_METRICS"):
    # The API as it would be without metrics: no middleware, no SQL counting.
    import api_core.metrics

    MIDDLEWARE = [m for m in MIDDLEWARE if m != "api_core.metrics.MetricsMiddleware"]  # noqa: F405
    api_core.metrics.count_queries = lambda *args, **kwargs: None
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000/second", "user": "1000000/second"},
}
'''
LOAD_BOOKS = f"""
from books.models import Book
def isbn13(first):
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)
Book.objects.bulk_create(
    Book(title=f"Title {{n:04d}}", subtitle="A subtitle", author=f"Author {{n % 37}}",
         isbn=isbn13(f"978{{n:09d}}"))
    for n in range({BOOKS})
)
print(Book.objects.order_by("pk").values_list("pk", flat=True).first())
"""
COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(HTTP_HOST="127.0.0.1")
counts = {}
for name, url in [("list", "/api/v1/books/"), ("item", "/api/v1/books/%s/")]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    counts[name] = len(queries)
print(json.dumps(counts))
"""


SCALE_ROWS = (1_000, 100_000, 1_000_000)
SCALE_DATABASES = DATABASES
# The requests of the data-scale table, by column name; the measuring script
# (SCALE_MEASURE) adds the last page, by number and by cursor, whose URLs
# depend on the rows.
SCALE_URLS = {
    "list": "/api/v1/books/",
    "page 50": "/api/v1/books/?page=50",
    "first cursor page": "/api/v1/books/?cursor=",
    "search": "/api/v1/books/?search=abc",
    "ordering -created": "/api/v1/books/?ordering=-created",
    "author filter": "/api/v1/books/?author=author%207",
}
# Rows FIRST..LAST of synthetic books, in SQL: md5 titles (so that a search
# for "abc" matches about 1 row in 100), 1,000 authors, unique ISBN-13s,
# one creation time a second. Generated columns fill themselves.
SCALE_SEED_SQL = {
    # No md5() in SQLite: random hex titles match "abc" about as often.
    "sqlite": """
        WITH RECURSIVE seq(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM seq WHERE i < {last})
        INSERT INTO books_book (title, subtitle, author, isbn, created, updated)
        SELECT 'Title ' || lower(hex(randomblob(16))), 'Subtitle ' || lower(hex(randomblob(16))),
               'author ' || (i % 1000), '979' || printf('%010d', i),
               strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || i || ' seconds'),
               strftime('%Y-%m-%d %H:%M:%f', 'now')
        FROM seq
    """,
    "postgresql": """
        INSERT INTO books_book (title, subtitle, author, isbn, created, updated)
        SELECT 'Title ' || md5(i::text), 'Subtitle ' || md5((-i)::text), 'author ' || (i % 1000),
               '979' || lpad(i::text, 10, '0'),
               now() - make_interval(secs => i), now()
        FROM generate_series({first}, {last}) AS i
    """,
    "mysql": """
        INSERT INTO books_book (title, subtitle, author, isbn, created, updated)
        SELECT CONCAT('Title ', MD5(seq)), CONCAT('Subtitle ', MD5(-seq)),
               CONCAT('author ', seq MOD 1000), CONCAT('979', LPAD(seq, 10, '0')),
               NOW(6) - INTERVAL seq SECOND, NOW(6)
        FROM seq_{first}_to_{last}
    """,
}
# Statistics as autovacuum (or MariaDB's own sampling) keeps them; VACUUM also
# empties the trigram indexes' pending lists, as autovacuum does after a load.
SCALE_ANALYZE = {
    "sqlite": "ANALYZE",
    "postgresql": "VACUUM ANALYZE books_book",
    "mysql": "ANALYZE TABLE books_book",
}
# Run in the baked project (manage.py shell): median of 5 timed requests
# (after one warm-up) through Django's test client, throttling out of the way.
SCALE_MEASURE = """
import json, statistics, time
from django.db import connection
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle
SimpleRateThrottle.allow_request = lambda self, request, view: True
client = Client(HTTP_HOST="127.0.0.1")
urls = json.loads(URLS)
# The last page, by number and by cursor (the cursor that the `next` link of
# the page before it holds), in the list's default order.
from urllib.parse import quote
from api_core.pagination import cursor_after
from books.models import Book
books = Book.objects.all()
last_start = (books.count() - 1) // 20 * 20
urls["last page by number"] = f"/api/v1/books/?page={last_start // 20 + 1}"
if last_start:
    cursor = cursor_after(books, books[last_start - 1])
    urls["last page by cursor"] = f"/api/v1/books/?cursor={quote(cursor)}"
def timed(action):
    action()
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(samples), 2)
def get(url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
def count():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM books_book")
figures = {name: timed(lambda url=url: get(url)) for name, url in urls.items()}
figures["count(*) alone"] = timed(count)
print(json.dumps(figures))
"""


def seed_sql(database: str, first: int, last: int) -> str:
    return SCALE_SEED_SQL[database].format(first=first, last=last)


def bench_scale(database: str, rows: tuple[int, ...] = SCALE_ROWS) -> dict[str, Any]:
    """Request times as the table grows: seeded with SQL, measured in one process each size."""
    with installed_bake(database) as (project, python, env):

        def manage(*args: str, **extra: str) -> str:
            return subprocess.run(
                [str(python), "manage.py", *args],
                cwd=project, env={**env, **extra}, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip

        manage("migrate", "--verbosity", "0")
        figures: dict[str, Any] = {}
        seeded = 0
        for size in sorted(rows):
            statements = [seed_sql(database, seeded + 1, size), SCALE_ANALYZE[database]]
            manage(
                "shell", "--no-imports", "-c",
                "from django.db import connection\n"
                "with connection.cursor() as cursor:\n"
                f"    for statement in {statements!r}:\n"
                "        cursor.execute(statement)\n"
                "        cursor.fetchall() if cursor.description else None\n",
            )  # fmt: skip
            seeded = size
            measure = f"URLS = {json.dumps(json.dumps(SCALE_URLS))}\n{SCALE_MEASURE}"
            figures[str(size)] = json.loads(manage("shell", "--no-imports", "-c", measure))
        smallest = figures[str(min(rows))]
        for size in rows:
            figures[str(size)] = {
                name: {"ms": ms, "ratio": round(ms / smallest[name], 1)}
                for name, ms in figures[str(size)].items()
            }
        return figures


def median_spread(samples: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(samples), 3),
        "min": round(min(samples), 3),
        "max": round(max(samples), 3),
        "runs": len(samples),
    }


def bake(output_dir: Path, **context: str) -> Path:
    """Bake the template with ``context`` answers into ``output_dir``, in this process."""
    return Path(
        cookiecutter(str(ROOT), no_input=True, extra_context=context, output_dir=str(output_dir))
    )


def quiet_bake(output_dir: Path, **context: str) -> Path:
    """Bake without the post-generation hook's next-steps message in the table's output.

    The hook is a child process writing to file descriptor 1, so that is what
    is pointed at /dev/null for the bake.
    """
    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return Path(
            cookiecutter(
                str(ROOT), no_input=True, extra_context=context, output_dir=str(output_dir)
            )
        )
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def bench_bake(runs: int = 7) -> dict[str, Any]:
    """Bake the default variant ``runs`` times in this process."""
    samples = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            quiet_bake(Path(tmp))
            samples.append(time.perf_counter() - started)
    return median_spread(samples)


@contextmanager
def installed(database: str, tmp: Path) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """A token/split bake of ``database``, installed, with a fresh database of its own."""
    project = quiet_bake(tmp / "bake", database=database)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONPATH"}}
    with own_database(python, SERVERS.get(database), env):
        yield project, python, env


@contextmanager
def installed_bake(database: str) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """``installed`` in a temporary folder of its own, removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp, installed(database, Path(tmp)) as baked:
        yield baked


PASSED = re.compile(r"(\d+) passed")


def bench_suite(database: str, runs: int = 3) -> dict[str, Any]:
    """Wall time of the baked project's whole test suite (`pytest -q`, no coverage) and its
    number of tests: ``runs`` times with the default Hypothesis profile, then once with the
    contract tests' full budget (the ci profile), each chosen explicitly."""
    with installed_bake(database) as (project, python, env):

        def timed(profile: str) -> tuple[float, int]:
            started = time.perf_counter()
            result = subprocess.run(
                [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                cwd=project,
                env={**env, "HYPOTHESIS_PROFILE": profile},
                check=True,
                capture_output=True,
                text=True,
            )
            seconds = time.perf_counter() - started
            return seconds, int(PASSED.findall(result.stdout)[-1])

        default = [timed("dev") for _ in range(runs)]
        full_seconds, full_tests = timed("ci")
    return {
        **median_spread([seconds for seconds, _ in default]),
        "tests": default[-1][1],
        "full_profile_s": round(full_seconds, 3),
        "full_profile_tests": full_tests,
    }


IMPORT_ROWS = 10_000
# Run in the bake's Django shell: a CSV of fresh books checked as the API checks
# it, then the task run as the worker runs it, timed; prints the seconds as JSON.
IMPORT_RUN = """
import json, time
from django.core.files.uploadedfile import SimpleUploadedFile
from imports import files, tasks
from imports.models import ImportJob
first, rows = {first}, {rows}
def isbn13(twelve):
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(twelve))
    return twelve + str(-total % 10)
lines = ["title,subtitle,author,isbn"]
for n in range(first, first + rows):
    lines.append(f"Book {{n}},,Author {{n % 97}},{{isbn13(f'978{{n:09d}}')}}")
upload = SimpleUploadedFile("bench.csv", "\\n".join(lines).encode(), "text/csv")
checked = files.check(upload, 10 ** 8)
job = ImportJob.objects.create(format=checked.format, file_name=checked.name,
                               content=checked.text, rows_total=checked.rows)
started = time.perf_counter()
tasks.import_books.call(job.pk)
seconds = time.perf_counter() - started
job.refresh_from_db()
assert (job.status, job.created_count) == ("succeeded", rows), job
print(json.dumps(seconds))
"""


def bench_imports(database: str, runs: int = 3) -> dict[str, Any]:
    """Rows per second of the import task over IMPORT_ROWS new books, ``runs`` times."""
    with installed_bake(database) as (project, python, env):
        manage = [str(python), "manage.py"]
        subprocess.run([*manage, "migrate", "-v", "0"], cwd=project, env=env, check=True)
        samples = []
        for run in range(runs):
            code = IMPORT_RUN.format(first=run * IMPORT_ROWS, rows=IMPORT_ROWS)
            result = subprocess.run(
                [*manage, "shell", "-c", code],
                cwd=project,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            samples.append(IMPORT_ROWS / json.loads(result.stdout.splitlines()[-1]))
    return {**median_spread(samples), "rows": IMPORT_ROWS}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_REQUESTS = re.compile(r"(\d+) requests in")
WRK_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
WRK_SOCKET_ERRORS = re.compile(
    r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
)


def pinned(cores: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn keeping a child process on ``cores`` (None: wherever the kernel likes)."""
    if not cores:
        return None
    return lambda: os.sched_setaffinity(0, cores)


def wrk(
    url: str,
    seconds: int = WRK_SECONDS,
    connections: int = 8,
    script: str | None = None,
    cores: set[int] | None = None,
) -> dict[str, float]:
    """Requests/s, requests sent and p50/p99 latency (ms) for ``url``, over ``seconds``;
    ``script`` is a wrk Lua script (its text) for the method, headers and body."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script or "")
        lua.flush()
        # One thread for a script: each thread runs its own copy (POST's counter).
        threads = 1 if script else min(2, connections)
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
        out = subprocess.run(
            [*command, *(["-s", lua.name] if script else []), url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
            preexec_fn=pinned(cores),
        ).stdout
    rate, requests = WRK_RATE.search(out), WRK_REQUESTS.search(out)
    assert rate is not None, out
    assert requests is not None, out
    latency = {f"p{p}_ms": round(float(v) * UNITS[u], 2) for p, v, u in WRK_PERCENTILE.findall(out)}
    # Answers other than 2xx/3xx, and connect/read/write/timeout errors.
    errors = sum(map(int, WRK_NON_2XX.findall(out))) + sum(
        int(n) for counts in WRK_SOCKET_ERRORS.findall(out) for n in counts
    )
    return {
        "rps": float(rate.group(1)),
        "requests": int(requests.group(1)),
        **latency,
        "errors": errors,
    }


# The gunicorn master of each URL served, in the order started.
MASTERS: dict[str, int] = {}


def bench_project(project: Path, python: Path, env: dict[str, str]) -> Callable[..., str]:
    """Give an installed bake the ceiling views and the bench's settings (in ``env``);
    return a ``manage(*args)`` that runs manage.py there and returns its output."""
    (project / "bench_urls.py").write_text(CEILING_URLS)
    (project / "bench_settings.py").write_text(CEILING_SETTINGS)
    env.update(
        DJANGO_SETTINGS_MODULE="bench_settings",
        DJANGO_SECRET_KEY=uuid.uuid4().hex * 2,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        # The machine's Redis, a database index of the benchmark's own.
        REDIS_URL=BENCH_REDIS_URL,
    )

    def manage(*args: str) -> str:
        return subprocess.run(
            [str(python), "manage.py", *args],
            cwd=project, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip

    return manage


@contextmanager
def gunicorn(
    database: str,
    tmp: Path,
    also: dict[str, str] | None = None,
    args: str = GUNICORN_ARGS,
    cores: set[int] | None = None,
) -> Iterator[tuple[str, Callable[..., str]]]:
    """A bake of ``database`` under gunicorn with production settings plus the ceiling views.

    Yields the base URL and a ``manage(*args)`` function for the project. With
    ``also``, a second gunicorn serves the same bake and database with those
    variables over the first's environment. MASTERS maps each URL to its master's pid.
    ``args`` are gunicorn's command-line arguments; ``cores`` pins its processes.
    """
    with installed(database, tmp) as (project, python, env):
        manage = bench_project(project, python, env)
        servers: list[subprocess.Popen[bytes]] = []

        def start(extra: dict[str, str]) -> str:
            port, metrics = free_port(), free_port()
            server = subprocess.Popen(
                [str(python), "-m", "gunicorn", "--config", "config/gunicorn.py", "config.wsgi"],
                cwd=project,
                env={
                    **env,
                    "PORT": str(port),
                    "DJANGO_METRICS_PORT": str(metrics),
                    "GUNICORN_CMD_ARGS": f"{args} --access-logfile /dev/null",
                    **extra,
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=pinned(cores),
            )
            servers.append(server)
            base = f"http://127.0.0.1:{port}"
            if not wait_for(f"{base}/health/ready", server=server):
                raise RuntimeError(f"gunicorn did not answer at {base}")
            MASTERS[base] = server.pid
            return base

        manage("migrate", "--verbosity", "0")
        try:
            base = start({})
            if also is not None:
                start(also)
            yield base, manage
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=15)


# The API method (issue: a figure that comes out the same twice). One gunicorn
# worker with one thread on one core, wrk on the other; API and ceiling in
# alternating rounds after a warm-up of each; per round, req/s and the CPU time
# the server's processes used per request (from /proc, hardly moved by what else
# the machine runs). The ratio is the ceiling's figure over the API's: 1.0 means
# the API costs what the bare view costs.
API_ROUNDS = 5
API_ROUND_SECONDS = 4
API_GUNICORN_ARGS = "--workers 1 --threads 1 --max-requests 0"
API_CONNECTIONS = 4
SERVER_CORES, LOAD_CORES = {1}, {0}
MAKE_TOKEN = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
user = get_user_model().objects.create_user("bench", password="bench-password-1", is_staff=True)
print(Token.objects.create(user=user).key)
"""
# wrk scripts: the method, the token and a body; POST gives every book an ISBN
# of its own (978 + a counter from FIRST + the check digit).
PATCH_SCRIPT = """
wrk.method = "PATCH"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token {token}"
wrk.body = '{{"title": "A patched title"}}'
"""
POST_SCRIPT = """
counter = 0
request = function()
  counter = counter + 1
  local first = string.format("978%09d", {first} + counter)
  local total = 0
  for i = 1, 12 do
    local digit = tonumber(first:sub(i, i))
    if i % 2 == 0 then total = total + 3 * digit else total = total + digit end
  end
  local isbn = first .. tostring((10 - total % 10) % 10)
  local body = string.format(
    '{{"title": "New %d", "subtitle": "S", "author": "A", "isbn": "%s"}}', counter, isbn)
  return wrk.format("POST", nil, {{["Content-Type"] = "application/json",
    ["Authorization"] = "Token {token}"}}, body)
end
"""


def cores_apart() -> tuple[set[int] | None, set[int] | None]:
    """The cores for the server and for wrk: two different ones where there are two."""
    if len(os.sched_getaffinity(0)) < 2:
        return None, None
    return SERVER_CORES, LOAD_CORES


def ratio_spread(api: list[float], ceiling: list[float], higher_is_better: bool) -> dict:
    """Each round's ratio (ceiling over API, or API over ceiling for req/s): median and range."""
    ratios = [a / c if higher_is_better else c / a for a, c in zip(api, ceiling, strict=True)]
    return {k: round(v, 2) for k, v in median_spread(ratios).items()}


def bench_api(database: str) -> dict[str, Any]:
    """List, item, PATCH and POST against their bare-Django ceilings, in alternating
    pinned rounds: req/s, p50/p99, CPU ms per request and the ratios, with their ranges."""
    server_cores, load_cores = cores_apart()
    with (
        tempfile.TemporaryDirectory() as tmp,
        gunicorn(database, Path(tmp), args=API_GUNICORN_ARGS, cores=server_cores) as (
            base,
            manage,
        ),
    ):
        first_pk = manage("shell", "--no-imports", "-c", LOAD_BOOKS).strip()
        queries = json.loads(
            manage("shell", "--no-imports", "-c", COUNT_QUERIES.replace("%s", first_pk))
        )
        token = manage("shell", "--no-imports", "-c", MAKE_TOKEN).strip()
        master = MASTERS[base]
        endpoints = {
            "list": ("/api/v1/books/", "/ceiling/books/", None),
            "item": (f"/api/v1/books/{first_pk}/", f"/ceiling/books/{first_pk}/", None),
            "PATCH": (
                f"/api/v1/books/{first_pk}/",
                f"/ceiling/books/{first_pk}/",
                PATCH_SCRIPT.format(token=token),
            ),
            "POST": ("/api/v1/books/", "/ceiling/books/new/", POST_SCRIPT),
        }
        figures: dict[str, Any] = {
            "pinned": server_cores is not None,
            "rounds": API_ROUNDS,
            "round_seconds": API_ROUND_SECONDS,
        }
        isbns = iter(range(100_000_000, 900_000_000, 10_000_000))

        def measure(url: str, script: str | None, seconds: int) -> tuple[dict[str, float], float]:
            if script == POST_SCRIPT:
                script = POST_SCRIPT.format(first=next(isbns), token=token)
            before = cpu_seconds(master)
            measured = wrk(base + url, seconds, API_CONNECTIONS, script, load_cores)
            if measured["errors"]:
                raise AssertionError(f"{url}: {measured['errors']} errors in a round")
            return measured, (cpu_seconds(master) - before) * 1000 / measured["requests"]

        for name, (api, ceiling, script) in endpoints.items():
            measure(api, script, 1)  # warm-up of each, not counted
            measure(ceiling, script, 1)
            rounds: dict[str, dict[str, list[float]]] = {
                side: {"rps": [], "cpu_ms": [], "p50_ms": [], "p99_ms": []}
                for side in ("api", "ceiling")
            }
            for _ in range(API_ROUNDS):
                for side, url in (("api", api), ("ceiling", ceiling)):
                    measured, cpu_ms = measure(url, script, API_ROUND_SECONDS)
                    rounds[side]["rps"].append(measured["rps"])
                    rounds[side]["cpu_ms"].append(cpu_ms)
                    rounds[side]["p50_ms"].append(measured.get("p50_ms", 0.0))
                    rounds[side]["p99_ms"].append(measured.get("p99_ms", 0.0))
            figures[name] = {
                side: {key: median_spread(values) for key, values in sides.items()}
                for side, sides in rounds.items()
            }
            figures[name]["cpu_ratio"] = ratio_spread(
                rounds["api"]["cpu_ms"], rounds["ceiling"]["cpu_ms"], higher_is_better=False
            )
            figures[name]["rps_ratio"] = ratio_spread(
                rounds["api"]["rps"], rounds["ceiling"]["rps"], higher_is_better=True
            )
            figures[name]["queries"] = queries.get(name)
        return figures


PYINSTRUMENT = "pyinstrument==5.1.3"
PROFILES = tasks.CACHE_DIR / "bench-profiles"
# Run in the bench's project (manage.py shell): N requests of each endpoint through
# Django's test client, after a warm-up, under pyinstrument; a text and an HTML profile each.
PROFILE_SCRIPT = """
import json, sys
from pathlib import Path
import django
django.setup()
from django.test import Client
from pyinstrument import Profiler
count, first_pk, token, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
def isbn13(n):
    first = f"978{n:09d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)
serial = iter(range(950_000_000, 999_999_999))
def post():
    body = {"title": "New", "subtitle": "S", "author": "A", "isbn": isbn13(next(serial))}
    return client.post("/api/v1/books/", body, content_type="application/json")
endpoints = {
    "list": lambda: client.get("/api/v1/books/"),
    "item": lambda: client.get(f"/api/v1/books/{first_pk}/"),
    "PATCH": lambda: client.patch(
        f"/api/v1/books/{first_pk}/", {"title": "A patched title"}, content_type="application/json"
    ),
    "POST": post,
}
written = []
for name, request in endpoints.items():
    for _ in range(20):
        assert request().status_code < 300
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(count):
        request()
    profiler.stop()
    (out / f"{name}.txt").write_text(profiler.output_text(unicode=False, show_all=False))
    (out / f"{name}.html").write_text(profiler.output_html())
    written.append(str(out / f"{name}.txt"))
print(json.dumps(written))
"""


def pyinstrument_path(python: Path) -> Path:
    """A folder holding pyinstrument for ``python``, installed once (not into the bake's
    environment, which is shared by lock and must stay as locked)."""
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    target = tasks.CACHE_DIR / "pyinstrument" / hashlib.sha256(version.encode()).hexdigest()[:12]
    if not (target / "pyinstrument").is_dir():
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--target", str(target), PYINSTRUMENT],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    return target


def bench_profile(database: str, count: int) -> dict[str, Any]:
    """Profiles of ``count`` requests of each API endpoint, as the bench serves them."""
    with tempfile.TemporaryDirectory() as tmp, installed(database, Path(tmp)) as baked:
        project, python, env = baked
        manage = bench_project(project, python, env)
        env["PYTHONPATH"] = str(pyinstrument_path(python))

        manage("migrate", "--verbosity", "0")
        first_pk = manage("shell", "--no-imports", "-c", LOAD_BOOKS).strip()
        token = manage("shell", "--no-imports", "-c", MAKE_TOKEN).strip()
        out = PROFILES / database
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        script = project / "bench_profile.py"
        script.write_text(PROFILE_SCRIPT)
        written = subprocess.run(
            [str(python), str(script), str(count), first_pk, token, str(out)],
            cwd=project, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        return {"requests": count, "files": json.loads(written.splitlines()[-1])}


# The second server of bench_metrics: no metrics middleware, no SQL counting, nothing served.
WITHOUT_METRICS = {"DJANGO_METRICS_PORT": "0", "BENCH_WITHOUT_METRICS": "1"}
METRICS_ROUNDS = 5


def cpu_seconds(master: int) -> float:
    """CPU time (user and system) the gunicorn master and its workers have used so far,
    workers that have exited included (their time is the master's cutime and cstime)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    ticks = 0
    for pid in [master, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        if pid == master:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def bench_metrics(database: str) -> dict[str, Any]:
    """The API list with the shipped metrics and without any, in alternating rounds: req/s,
    and the server's CPU time per request (less sensitive to what else the machine runs)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        gunicorn(database, Path(tmp), also=WITHOUT_METRICS) as (base, manage),
    ):
        manage("shell", "--no-imports", "-c", LOAD_BOOKS)
        bare = list(MASTERS)[-1]
        rates: dict[str, list[float]] = {"with": [], "without": []}
        cpu_ms: dict[str, list[float]] = {"with": [], "without": []}
        for url in (base, bare):
            urllib.request.urlopen(url + "/api/v1/books/", timeout=5).close()  # warm up
        for _ in range(METRICS_ROUNDS):
            for label, url in (("with", base), ("without", bare)):
                before = cpu_seconds(MASTERS[url])
                measured = wrk(url + "/api/v1/books/")
                used = cpu_seconds(MASTERS[url]) - before
                rates[label].append(measured["rps"])
                cpu_ms[label].append(used * 1000 / measured["requests"])
        with_rps, without_rps = median_spread(rates["with"]), median_spread(rates["without"])
        with_cpu, without_cpu = median_spread(cpu_ms["with"]), median_spread(cpu_ms["without"])
        return {
            "with": with_rps,
            "without": without_rps,
            "cpu_ms_with": with_cpu,
            "cpu_ms_without": without_cpu,
            "rounds": METRICS_ROUNDS,
            "rps_cost_percent": round((1 - with_rps["median"] / without_rps["median"]) * 100, 1),
            "cpu_cost_percent": round((with_cpu["median"] / without_cpu["median"] - 1) * 100, 1),
        }


def bench_docker() -> dict[str, Any]:
    """Image size, cold build, warm rebuild after a code change, up to healthy (postgresql)."""
    from tests.support import Combination
    from tests.support.docker import PG_PORT_BASE, WEB_PORT_BASE, buildable_here, compose_stack

    combo = Combination("postgresql", "split")
    with tempfile.TemporaryDirectory() as tmp:
        project = buildable_here(quiet_bake(Path(tmp), **combo.context))
        stack = compose_stack(
            combo, project, WEB_PORT_BASE + 90, PG_PORT_BASE + 90, name_prefix="bench"
        )

        def timed(*args: str) -> float:
            started = time.perf_counter()
            subprocess.run(
                [*stack.command, *args], cwd=project, env=stack.env, check=True,
                capture_output=True,
            )  # fmt: skip
            return round(time.perf_counter() - started, 1)

        try:
            cold = timed("build", "--no-cache", "web")
            views = project / "books" / "views.py"
            views.write_text(views.read_text() + f"\n# a code-only change: {uuid.uuid4().hex}\n")
            warm = timed("build", "web")
            up = timed("up", "--detach", "--wait", "--wait-timeout", "300")
            image = stack.image
            size = int(subprocess.run(
                ["docker", "image", "inspect", image, "--format", "{{.Size}}"],
                check=True, capture_output=True, text=True,
            ).stdout)  # fmt: skip
            base = int(subprocess.run(
                ["docker", "image", "inspect", "python:3.13-slim", "--format", "{{.Size}}"],
                check=True, capture_output=True, text=True,
            ).stdout)  # fmt: skip
            return {
                "image_mb": round(size / 1e6),
                "above_base_mb": round((size - base) / 1e6),
                "cold_build_s": cold,
                "warm_rebuild_s": warm,
                "up_to_healthy_s": up,
            }
        finally:
            stack.down()


def bench_proxy() -> dict[str, Any]:
    """The API behind nginx with 1 and 3 web replicas of 2 workers (compose.replicas.yml)."""
    from tests.support.docker import replicas_stack

    web_env = {
        "DJANGO_THROTTLE_ANON": "1000000/second",
        "DJANGO_THROTTLE_USER": "1000000/second",
        "GUNICORN_CMD_ARGS": f"{GUNICORN_ARGS} --access-logfile /dev/null",
    }
    figures: dict[str, Any] = {}
    for replicas in (1, 3):
        with (
            tempfile.TemporaryDirectory() as tmp,
            replicas_stack(
                quiet_bake(Path(tmp), database="postgresql"), 70 + 2 * replicas, web_env, replicas
            ) as stack,
        ):
            stack(
                "exec", "-T", "--index", "1", "web", "python", "manage.py", "shell",
                "--no-imports", "-c", LOAD_BOOKS,
            )  # fmt: skip
            url = stack.url("/api/v1/books/")
            urllib.request.urlopen(url, timeout=5).close()  # warm up
            figures[str(replicas)] = wrk(url)
    return figures


def attempt(label: str, function: Callable[[], Any]) -> Any:
    """Run one measurement; a missing prerequisite becomes a note, not a crash."""
    print(f"measuring {label} ...", file=sys.stderr, flush=True)
    try:
        return function()
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"")[-300:]
        detail = detail.decode() if isinstance(detail, bytes) else detail
        return {"error": f"{error.cmd[1:3]} failed: {detail.strip()}"}
    except (OSError, AssertionError) as error:
        return {"error": f"{type(error).__name__}: {str(error)[:200]}"}


def per_database(
    label: str, function: Callable[[str], Any], databases: list[str]
) -> dict[str, Any]:
    """``attempt`` ``function`` once for each database, keyed by database."""
    return {db: attempt(f"{db} {label}", lambda db=db: function(db)) for db in databases}


def report(results: dict[str, Any], path: Path, table: Callable[[dict[str, Any]], str]) -> None:
    """Write ``results`` as JSON to ``path`` and print them as a markdown table."""
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    print(table(results))
    print(f"\n(JSON: {path.relative_to(ROOT)})")


def table(results: dict[str, Any]) -> str:
    lines = ["| measurement | figure | target |", "| --- | --- | --- |"]
    bake_figures = results.get("bake", {})
    if "median" in bake_figures:
        lines.append(
            f"| bake time, default variant | median {bake_figures['median']} s "
            f"(min {bake_figures['min']}, max {bake_figures['max']}, {bake_figures['runs']} runs) "
            "| < 0.5 s |"
        )
    for database, figures in results.get("suite", {}).items():
        value = (
            f"median {figures['median']} s of {figures['runs']} (min {figures['min']}, "
            f"max {figures['max']}), {figures['tests']} tests; full contract budget "
            f"once: {figures['full_profile_s']} s"
            if "median" in figures
            else figures["error"]
        )
        target = "< 5 s, >= 130 tests" if database == "sqlite" else ""
        lines.append(f"| baked test suite, {database}, default profile | {value} | {target} |")
    for database, figures in results.get("api", {}).items():
        if "error" in figures:
            lines.append(f"| API, {database} | {figures['error']} | |")
            continue
        for name in API_ENDPOINTS:
            lines.append(api_row(database, name, figures[name], figures))
    for database, figures in results.get("metrics", {}).items():
        value = (
            f"CPU per request {figures['cpu_ms_with']['median']:.2f} ms with (min "
            f"{figures['cpu_ms_with']['min']:.2f}, max {figures['cpu_ms_with']['max']:.2f}), "
            f"{figures['cpu_ms_without']['median']:.2f} without: {figures['cpu_cost_percent']}% "
            f"more; {figures['with']['median']:.0f} req/s with, "
            f"{figures['without']['median']:.0f} without: {figures['rps_cost_percent']}% fewer "
            f"(medians of {figures['rounds']} alternating rounds)"
            if "with" in figures
            else figures["error"]
        )
        lines.append(f"| cost of metrics, API list, {database} | {value} | < 5% |")
    docker = results.get("docker")
    if docker and "error" not in docker:
        lines += [
            f"| Docker image (postgresql) | {docker['image_mb']} MB, {docker['above_base_mb']} MB "
            "above python:3.13-slim | < 100 MB above base |",
            f"| Docker cold build | {docker['cold_build_s']} s | |",
            f"| Docker warm rebuild, code-only change | {docker['warm_rebuild_s']} s | < 10 s |",
            f"| Docker `up` to healthy | {docker['up_to_healthy_s']} s | < 10 s |",
        ]
    elif docker:
        lines.append(f"| Docker | {docker['error']} | |")
    proxy = results.get("proxy")
    if proxy and "error" not in proxy:
        for replicas, f in proxy.items():
            lines.append(
                f"| API list behind nginx, {replicas} replica(s) of 2 workers (postgresql, "
                f"Docker) | {f['rps']:.0f} req/s, p50 {f.get('p50_ms')} ms, p99 "
                f"{f.get('p99_ms')} ms, {f['errors']} errors | 0 errors |"
            )
    elif proxy:
        lines.append(f"| API behind nginx | {proxy['error']} | |")
    for database, figures in results.get("imports", {}).items():
        value = (
            f"median {figures['median']:.0f} rows/s of {figures['runs']} (min "
            f"{figures['min']:.0f}, max {figures['max']:.0f}), {figures['rows']} rows"
            if "median" in figures
            else figures["error"]
        )
        lines.append(f"| import task, {database} | {value} | |")
    for database, figures in results.get("profile", {}).items():
        value = (
            f"{figures['requests']} requests each: " + ", ".join(f"`{f}`" for f in figures["files"])
            if "files" in figures
            else figures["error"]
        )
        lines.append(
            f"| pyinstrument profiles, {database} (beside each .txt an .html) | {value} | |"
        )
    if results.get("scale"):
        lines += ["", scale_table(results["scale"])]
    return "\n".join(lines)


API_ENDPOINTS = ("list", "item", "PATCH", "POST")


def api_row(database: str, name: str, f: dict[str, Any], run: dict[str, Any]) -> str:
    """A table row of one endpoint's rounds: CPU per request and req/s, API and ceiling."""

    def spread(figure: dict[str, float], digits: int = 2) -> str:
        return (
            f"{figure['median']:.{digits}f} ({figure['min']:.{digits}f}-{figure['max']:.{digits}f})"
        )

    api, ceiling = f["api"], f["ceiling"]
    pinned = "pinned, " if run.get("pinned") else "not pinned (one core), "
    return (
        f"| API {name}, {database} | CPU ratio {spread(f['cpu_ratio'])}: "
        f"{spread(api['cpu_ms'])} ms per request, ceiling {spread(ceiling['cpu_ms'])} ms; "
        f"req/s ratio {spread(f['rps_ratio'])}: {api['rps']['median']:.0f} req/s, ceiling "
        f"{ceiling['rps']['median']:.0f}; API p50 {api['p50_ms']['median']} ms, p99 "
        f"{api['p99_ms']['median']} ms; {f['queries'] if f['queries'] is not None else '-'} "
        f"queries ({pinned}medians and ranges of {run['rounds']} alternating rounds of "
        f"{run['round_seconds']} s) | CPU ratio >= 0.7 |"
    )


def scale_table(scale: dict[str, Any]) -> str:
    """One row per database and table size: ms per request and the ratio to the smallest size."""
    columns = [*SCALE_URLS, "last page by number", "last page by cursor", "count(*) alone"]
    lines = [
        "| database | rows | " + " | ".join(f"`{SCALE_URLS.get(c, c)}`" for c in columns) + " |",
        "| --- | --- |" + " --- |" * len(columns),
    ]
    for database, sizes in scale.items():
        if "error" in sizes:
            lines.append(f"| {database} | {sizes['error']} |" + " |" * len(columns))
            continue
        for size, figures in sizes.items():
            cells = [f"{figures[c]['ms']} ms ({figures[c]['ratio']}x)" for c in columns]
            lines.append(f"| {database} | {int(size):,} | " + " | ".join(cells) + " |")
    lines.append("\n(Django test client in one process, median of 5; ratio to the smallest table.)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        choices=["bake", "suite", "api", "metrics", "docker", "proxy", "scale", "imports"],
        action="append",
    )
    parser.add_argument("--databases", nargs="*", default=list(DATABASES), choices=DATABASES)
    parser.add_argument(
        "--rows", nargs="*", type=int, default=list(SCALE_ROWS), help="table sizes for 'scale'"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        type=int,
        const=500,
        metavar="N",
        help="profile N (500) requests of each API endpoint with pyinstrument, per database",
    )
    args = parser.parse_args(argv)
    # --profile alone profiles and measures nothing else.
    parts = args.only or ([] if args.profile else [
        "bake", "suite", "api", "metrics", "docker", "proxy", "scale", "imports"
    ])  # fmt: skip
    results: dict[str, Any] = {}
    if "bake" in parts:
        results["bake"] = attempt("bake time", bench_bake)
    if "suite" in parts:
        results["suite"] = per_database("suite", bench_suite, args.databases)
    if "api" in parts:
        if shutil.which("wrk") is None:
            results["api"] = {"all": {"error": "wrk is not installed (apt-get install wrk)"}}
        else:
            results["api"] = per_database("API", bench_api, args.databases)
    if "metrics" in parts:
        if shutil.which("wrk") is None:
            results["metrics"] = {"all": {"error": "wrk is not installed (apt-get install wrk)"}}
        else:
            results["metrics"] = per_database("metrics", bench_metrics, args.databases)
    if "docker" in parts:
        results["docker"] = attempt("Docker", bench_docker)
    if "proxy" in parts:
        if shutil.which("wrk") is None:
            results["proxy"] = {"error": "wrk is not installed (apt-get install wrk)"}
        else:
            results["proxy"] = attempt("API behind the proxy", bench_proxy)
    if "scale" in parts:
        scale_databases = [db for db in args.databases if db in SCALE_DATABASES]
        results["scale"] = per_database(
            "data scale", lambda db: bench_scale(db, tuple(args.rows)), scale_databases
        )
    if "imports" in parts:
        results["imports"] = per_database("imports", bench_imports, args.databases)
    if args.profile:
        results["profile"] = per_database(
            "profiles", lambda db: bench_profile(db, args.profile), args.databases
        )
    report(results, RESULTS, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
