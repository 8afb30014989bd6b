"""Baked projects built and run with Docker Compose on a real engine.

For each listed variant: the compose files are valid; the image builds; the
stack comes up healthy; the API answers, issues a token and accepts a book;
the book survives ``down`` and ``up``; the runtime image passes the deploy
checks, runs as a non-root user and holds no ``.env`` or secret. With
compose.observability.yml, Prometheus scrapes the web and the worker.

The stacks run the bake's compose files as shipped, on ports of their own
(tests/support/docker.py says how, and what changes on an engine without
bridge networks). Without an engine the tests skip with the reason; with
``CI`` set they fail instead.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import IN_CI, Combination, bake, make, record_stat, require_tool
from tests.support.docker import (
    DEV_VARIANTS,
    DOCKER_VARIANTS,
    MYSQL_PORT_BASE,
    PG_PORT_BASE,
    REPLICAS,
    START_INTERVAL_API,
    UP_TIMEOUT,
    WEB_PORT_BASE,
    Compose,
    buildable_here,
    compose_stack,
    docker_run_network,
    docker_unavailable,
    engine_api_version,
    env_value,
    http,
    patch_python_standins,
    prometheus_unavailable,
    prometheus_url,
    replicas_stack,
    run,
    set_env_values,
    upload,
)
from tests.support.gunicorn import start_of_a_window

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SECOND = 1_000_000_000  # image configs give durations in nanoseconds


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip without an engine (fail under CI); on host-network machines, patch the engine's
    stand-in Python images once."""
    reason = docker_unavailable()
    if reason is not None:
        message = f"no Docker engine: {reason}"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the docker tests")
        pytest.skip(message)
    patch_python_standins()


def docker_bake(cookies: Cookies, **context: str) -> Path:
    """A bake whose Dockerfile this engine can build."""
    return buildable_here(bake(cookies, **context))


@pytest.fixture(params=[pytest.param(c, id=c.id) for c in DOCKER_VARIANTS])
def stack(
    request: pytest.FixtureRequest, cookies: Cookies, docker_engine: None
) -> Iterator[Compose]:
    combo: Combination = request.param
    index = DOCKER_VARIANTS.index(combo)
    # Every test of a variant gets the variant's ports, so parallel workers take
    # turns at a variant (on the host network, two stacks would share them).
    with tasks.locked(Path(tempfile.gettempdir()) / f"django-drf-docker-stack-{index}.lock"):
        project = docker_bake(cookies, **combo.context)
        db_base = PG_PORT_BASE if combo.database == "postgresql" else MYSQL_PORT_BASE
        compose = compose_stack(combo, project, WEB_PORT_BASE + index, db_base + index)
        try:
            yield compose
        finally:
            compose.down()


def image_size_mb(image: str) -> float:
    inspect = run(["docker", "image", "inspect", image, "--format", "{{.Size}}"])
    return int(inspect.stdout.strip()) / 1e6


def test_docker_stack_builds_serves_and_keeps_data(stack: Compose) -> None:
    """Build, up, healthy, read, authenticate, write, down and up again: the book is still there."""
    run(["docker", "compose", "-f", "docker-compose.yml", "config", "-q"], cwd=stack.project)
    stack("config", "-q")

    started = time.monotonic()
    stack("build")
    build_seconds = time.monotonic() - started
    started = time.monotonic()
    stack("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT))
    up_seconds = time.monotonic() - started

    status, body = http("GET", stack.url("/api/v1/books/"))
    assert (status, body["count"]) == (200, 0)
    assert http("GET", stack.url("/health/ready"))[0] == 200
    request_id_is_returned_and_logged_as_json(stack)

    authorization = superuser_authorization(stack)
    book = {"title": "Dune", "author": "Frank Herbert", "isbn": "978-0-441-17271-9"}
    status, body = http("POST", stack.url("/api/v1/books/"), book, authorization=authorization)
    assert status == 201, body

    stack("down", "--timeout", "10")
    stack("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT))
    status, body = http("GET", stack.url("/api/v1/books/"))
    assert status == 200
    assert [(b["title"], b["isbn"]) for b in body["results"]] == [("Dune", "9780441172719")]

    web_uid = stack(
        "exec", "-T", "web", "sh", "-c", "id -u; awk '/^Uid/ {print $2}' /proc/1/status"
    )
    assert web_uid.stdout.split() == ["10001", "10001"]

    size = image_size_mb(stack.image)
    base = image_size_mb(f"python:{stack.combo.python_version}-slim")
    record_stat(
        f"docker {stack.combo.id}",
        {
            "build s": round(build_seconds, 1),
            "up to healthy s": round(up_seconds, 1),
            "image MB": round(size),
            "above base MB": round(size - base),
        },
    )


def request_id_is_returned_and_logged_as_json(stack: Compose) -> None:
    """gunicorn with production settings: X-Request-ID comes back, the log is JSON lines.

    The request's access line holds its id, method, path, status and duration;
    gunicorn's own lines are JSON too, and it writes no access line of its own.
    """
    request_id = str(uuid.uuid4())
    path = "/api/v1/books/?page_size=5"
    request = urllib.request.Request(stack.url(path), headers={"X-Request-ID": request_id})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["X-Request-ID"] == request_id

    logged: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        output = stack("logs", "--no-log-prefix", "--no-color", "web").stdout
        logged = [json.loads(line) for line in output.splitlines() if line.strip()]
        if any(line.get("request_id") == request_id for line in logged):
            break
        time.sleep(0.5)
    [access] = [line for line in logged if line.get("request_id") == request_id]
    assert access["logger"] == "access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/books/", 200)
    assert access["duration_ms"] > 0
    assert any(line["logger"] == "gunicorn.error" for line in logged)
    assert not any(line["logger"] == "gunicorn.access" for line in logged)


def test_docker_runtime_image_is_safe(stack: Compose) -> None:
    """The runtime image passes check --deploy, runs as non-root and holds no secret."""
    stack("build", "web")
    secret = env_value(stack.project, "DJANGO_SECRET_KEY")

    # In the stack, as a deployment runs it: Django's model checks ask the
    # database server its version, so the check needs the real one.
    deploy = stack(
        "run",
        "--rm",
        "-e",
        f"DJANGO_SECRET_KEY=deploy-check-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        "-e",
        "DJANGO_ALLOWED_HOSTS=api.example.com",
        # docker-compose.yml turns the redirect off for plain http on a laptop.
        "-e",
        "DJANGO_SECURE_SSL_REDIRECT=true",
        "web",
        "python",
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert "no issues" in deploy.stdout

    config = json.loads(run(["docker", "image", "inspect", stack.image]).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert not any(var.startswith("DJANGO_SECRET_KEY=") for var in config["Env"])
    health = config["Healthcheck"]
    assert "/health/live" in " ".join(health["Test"])
    assert (health["Timeout"], health["StartPeriod"]) == (3 * SECOND, 30 * SECOND)
    assert health["Retries"] == 3
    if engine_api_version() >= START_INTERVAL_API:
        assert (health["Interval"], health["StartInterval"]) == (30 * SECOND, SECOND)

    files = run(
        [
            "docker",
            "run",
            "--rm",
            *docker_run_network(),
            stack.image,
            "sh",
            "-c",
            f"test ! -e /app/.env && (grep -rlF '{secret}' /app /opt/venv || true)",
        ]
    )
    assert files.stdout.strip() == ""
    history = run(["docker", "history", "--no-trunc", stack.image]).stdout
    assert secret not in history


# Run in the runtime image: import what a gunicorn worker imports, then list
# every imported source file whose bytecode is not in the image.
UNCOMPILED = """
import importlib.util, os, sys
from pathlib import Path
import django
django.setup()
import config.wsgi, config.urls
files = [m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", "") or ""]
sources = [f for f in files if f.endswith(".py")]
missing = [f for f in sources if not Path(importlib.util.cache_from_source(f)).exists()]
print(len(sources), *missing, sep=chr(10))
"""


def test_docker_runtime_image_holds_bytecode(stack: Compose) -> None:
    """The image ships its dependencies and code compiled: its user cannot write bytecode,
    so without it every process, each gunicorn worker included, would compile again."""
    stack("build", "web")

    result = stack(
        "run", "--rm", "--no-deps", "-e", "DJANGO_SECRET_KEY=" + "k" * 60,
        "-e", "DJANGO_ALLOWED_HOSTS=api.example.com", "-e", "REDIS_URL=redis://cache:6379/0",
        "web", "python", "-c", UNCOMPILED,
    )  # fmt: skip

    imported, *missing = result.stdout.split()
    assert int(imported) > 500  # Django, DRF and the project were imported
    assert missing == []


# How OpenShift (and a Kubernetes policy with runAsUser) runs an image: a uid
# the image does not know, in group 0, on a read-only root without any
# capability; /tmp is the one writable mount a deployment gives it (the
# Kubernetes base's emptyDir). /dev/shm is the engine's own tmpfs.
ANY_UID = ("12345", "0")
LOCKED_DOWN = [
    "--user", ":".join(ANY_UID), "--read-only", "--cap-drop", "ALL", "--tmpfs", "/tmp",
    "--security-opt", "no-new-privileges",
]  # fmt: skip
# What the processes wrote, besides the database (in the container, at the end).
WRITTEN = "find /tmp /dev/shm -mindepth 1 -maxdepth 1 | sort; id -u; id -g"


def locked_down_run(stack: Compose, service: str, volume: str) -> list[str]:
    """`docker run` options for the stack's image as ``service`` (its environment, the
    stack's network, the database's host name), locked down, with /data on ``volume``."""
    config = json.loads(stack("config", "--format", "json").stdout)
    settings = config["services"][service]
    environment = [
        f"--env={key}={value}" for key, value in settings["environment"].items()
        if value is not None
    ]  # fmt: skip
    hosts = settings.get("extra_hosts") or []
    if isinstance(hosts, dict):
        hosts = [f"{name}:{address}" for name, address in hosts.items()]
    network = ["--network", "host"] if settings.get("network_mode") == "host" else [
        "--network", config["networks"]["default"]["name"],
        *(["--publish", f"127.0.0.1:{stack.web_port}:8000"] if service == "web" else []),
    ]  # fmt: skip
    data = ["--volume", f"{volume}:/data"] if stack.combo.database == "sqlite" else []
    return [
        *LOCKED_DOWN, *network, *(f"--add-host={host.replace('=', ':')}" for host in hosts),
        *environment, *data,
    ]  # fmt: skip


def test_docker_runtime_image_runs_as_any_uid(stack: Compose) -> None:
    """As a uid the image does not know, in group 0 (OpenShift's way), with a read-only root,
    no capability and a tmpfs /tmp, the runtime image migrates its database, serves the API
    and runs the worker; the engine did apply each restriction."""
    stack("build", "web")
    stack("up", "--detach", "--wait", *(["cache"] if stack.combo.database == "sqlite" else
                                        ["db", "cache"]))  # fmt: skip
    volume, name = f"{stack.name}-any-uid-data", f"{stack.name}-any-uid"
    containers = [f"{name}-web", f"{name}-worker"]
    try:
        migrate = run(["docker", "run", "--rm", *locked_down_run(stack, "migrate", volume),
                       stack.image, "python", "manage.py", "migrate", "--no-input"])  # fmt: skip
        assert "Applying books.0001_initial... OK" in migrate.stdout
        for container, service in zip(containers, ("web", "worker"), strict=True):
            command = ["python", "manage.py", "worker"] if service == "worker" else []
            run(["docker", "run", "--detach", "--name", container,
                 *locked_down_run(stack, service, volume), stack.image, *command])  # fmt: skip

        deadline = time.monotonic() + 90
        while http_status(stack.url("/health/ready")) != 200 and time.monotonic() < deadline:
            time.sleep(1)
        status, body = http("GET", stack.url("/api/v1/books/"))
        assert (status, body["count"]) == (200, 0), run(["docker", "logs", containers[0]]).stderr
        deadline = time.monotonic() + 60
        while True:
            alive = subprocess.run(
                ["docker", "exec", containers[1], "python", "manage.py", "worker", "--alive"],
                capture_output=True, check=False,
            )  # fmt: skip
            if alive.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert alive.returncode == 0, run(["docker", "logs", containers[1]]).stderr

        written = {}
        for container in containers:
            host_config = json.loads(run(["docker", "inspect", container]).stdout)[0]
            assert host_config["Config"]["User"] == ":".join(ANY_UID)
            assert host_config["HostConfig"]["ReadonlyRootfs"] is True
            assert host_config["HostConfig"]["CapDrop"] == ["ALL"]
            *paths, uid, gid = run(
                ["docker", "exec", container, "sh", "-c", WRITTEN]
            ).stdout.split()
            assert (uid, gid) == ANY_UID
            written[container.rsplit("-", 1)[1]] = paths
        if stack.combo.database == "sqlite":
            owners = run(["docker", "run", "--rm", "--volume", f"{volume}:/data", stack.image,
                          "stat", "-c", "%n %u:%g %a", "/data", "/data/db.sqlite3"])  # fmt: skip
            assert owners.stdout.splitlines()[0] == "/data 10001:0 2775"
            assert owners.stdout.splitlines()[1].startswith(f"/data/db.sqlite3 {ANY_UID[0]}:0 ")
    finally:
        subprocess.run(["docker", "rm", "--force", *containers], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)
    # gunicorn's files are in /dev/shm; nothing needed a writable root.
    assert any("/dev/shm/" in path for path in written["web"]), written
    record_stat(f"docker any uid {stack.combo.id}", {k: " ".join(v) for k, v in written.items()})


def http_status(url: str) -> int:
    """The status of a GET, or 0 while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# Run in the runtime image: every distribution its Python sees, name and version.
DISTRIBUTIONS = """
import importlib.metadata, json
found = [[d.metadata["Name"], d.version] for d in importlib.metadata.distributions()]
print(json.dumps(found))
"""


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them: `typing_extensions` is `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize("stack", [pytest.param(DOCKER_VARIANTS[0], id=DOCKER_VARIANTS[0].id)],
                         indirect=True)  # fmt: skip
def test_docker_sbom_lists_exactly_the_runtime_image_packages(
    stack: Compose, tools_venv: Path
) -> None:
    """`make sbom`, run beside the image with its Python version, lists exactly the packages
    in the built runtime image's /opt/venv, each at the image's version."""
    version = stack.combo.python_version
    python = require_tool(
        (f"python{version}",), f"no python{version} on PATH", "have the image's Python"
    )
    stack("build", "web")
    image = run(
        ["docker", "run", "--rm", *docker_run_network(), stack.image, "python", "-c", DISTRIBUTIONS]
    )
    make(
        stack.project,
        Path(python),
        "sbom",
        PYTHON=python,
        CYCLONEDX=str(tasks.bin_path(tools_venv, "cyclonedx-py")),
    )

    sbom = json.loads((stack.project / "sbom.cdx.json").read_text())
    listed = sorted([canonical(c["name"]), c["version"]] for c in sbom["components"])
    in_image = sorted([canonical(name), version] for name, version in json.loads(image.stdout))
    assert len(listed) > 40
    assert listed == in_image


# The worker (docker-compose.yml's worker service) on a real engine.
#
# A large import: enough rows that the worker is still at it when it is
# stopped, each a distinct valid ISBN, well under the 10 MB upload limit.
LARGE_IMPORT = 50_000
# Seconds of silence after which a killed worker's task runs again (the
# default, 30, would only make the test wait longer).
WORKER_LOST_AFTER = 5


def isbn13_978(serial: int) -> str:
    first = f"978{serial:09d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)


def books_csv(serials: Iterable[int], *extra_rows: str) -> bytes:
    """A catalogue file as the import takes it: one book per serial, then ``extra_rows``."""
    rows = [f"Book {n},Volume {n},Author {n % 97},{isbn13_978(n)}" for n in serials]
    return "\n".join(["title,subtitle,author,isbn", *rows, *extra_rows, ""]).encode()


def send_import(stack: Compose, authorization: str, name: str, content: bytes) -> str:
    """POST the file to /api/v1/imports/; the import's URL, from Location."""
    status, location, body = upload(
        stack.url("/api/v1/imports/"), "file", name, content, authorization
    )
    assert status == 202, body
    return stack.url(location)


def import_state(url: str, authorization: str) -> dict[str, Any]:
    status, body = http("GET", url, authorization=authorization)
    assert status == 200, body
    return cast(dict[str, Any], body)


def import_running(url: str, authorization: str, timeout: float = 60) -> dict[str, Any]:
    """Poll the import until a worker has committed some of its rows, not all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = import_state(url, authorization)
        if state["status"] != "queued" and state["rows_done"] > 0:
            assert state["status"] == "running", f"done before it could be stopped: {state}"
            return state
        time.sleep(0.1)
    raise AssertionError(f"no row imported in {timeout} s: {state}")


def import_finished(url: str, authorization: str, timeout: float = 180) -> dict[str, Any]:
    """Poll the import until it has succeeded or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = import_state(url, authorization)
        if state["status"] in {"succeeded", "failed"}:
            return state
        time.sleep(0.5)
    raise AssertionError(f"not finished in {timeout} s: {state}")


def counts(state: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        state[key]
        for key in ("status", "rows_total", "rows_done", "created_count", "present_count",
                    "invalid_count")
    )  # fmt: skip


def books_in_database(stack: Compose) -> int:
    """The catalogue's exact size (the API's count is an estimate beyond 1,000 books)."""
    result = stack(
        "exec", "-T", "web", "python", "manage.py", "shell", "-c",
        "from books.models import Book; print(Book.objects.count())",
    )  # fmt: skip
    # The last line: Django's shell may first say how many objects it imported.
    return int(result.stdout.split()[-1])


def test_docker_worker_imports_and_resumes_after_a_stop(stack: Compose) -> None:
    """`up` brings the worker up healthy, and it runs the imports sent to the API. Stopped
    (SIGTERM) or killed (SIGKILL) in the middle of a large import and started again, it
    finishes that import: every book of the file exists once and the counts are one run's."""
    set_env_values(stack.project, {"DJANGO_WORKER_LOST_AFTER": str(WORKER_LOST_AFTER)})
    stack.up_built()
    [worker] = containers(stack, "worker")
    assert (worker["State"], worker["Health"]) == ("running", "healthy")
    # Its health check, run by hand: it passes (run() asserts the exit code).
    stack("exec", "-T", "worker", "python", "manage.py", "worker", "--alive")
    authorization = superuser_authorization(stack)

    # A small file: three books, one of them twice, and a row that is not a book.
    small = books_csv(range(3), f"Again,,Someone,{isbn13_978(1)}", "No ISBN,,Someone,123")
    done = import_finished(send_import(stack, authorization, "small.csv", small), authorization)
    assert counts(done) == ("succeeded", 5, 5, 3, 1, 1)
    # Rows are numbered by their line in the file, the header being line 1.
    assert [row["row"] for row in done["invalid_rows"]] == [6]

    # `docker compose stop worker` while a large import runs, then `start`.
    serials = range(1_000_000, 1_000_000 + LARGE_IMPORT)
    url = send_import(stack, authorization, "stopped.csv", books_csv(serials))
    import_running(url, authorization)
    started = time.monotonic()
    stack("stop", "worker")
    stop_seconds = time.monotonic() - started
    [worker] = containers(stack, "worker")
    # It stopped by itself within its stop_grace_period, not killed at the end of it.
    assert (worker["State"], worker["ExitCode"]) == ("exited", 0)
    at_stop = import_state(url, authorization)
    # It handed the rest over at its next batch, for the next worker to resume.
    assert at_stop["status"] == "queued", at_stop
    assert 0 < at_stop["rows_done"] < LARGE_IMPORT
    stack("start", "worker")
    done = import_finished(url, authorization)
    assert counts(done) == ("succeeded", LARGE_IMPORT, LARGE_IMPORT, LARGE_IMPORT, 0, 0)

    # Killed (a crash, the out-of-memory killer) while a large import runs, then started:
    # the import resumes from its last committed batch once the dead worker is noticed.
    serials = range(2_000_000, 2_000_000 + LARGE_IMPORT)
    url = send_import(stack, authorization, "killed.csv", books_csv(serials))
    import_running(url, authorization)
    stack("kill", "worker")
    at_kill = import_state(url, authorization)
    assert at_kill["status"] == "running"
    assert 0 < at_kill["rows_done"] < LARGE_IMPORT
    stack("start", "worker")
    done = import_finished(url, authorization)
    assert counts(done) == ("succeeded", LARGE_IMPORT, LARGE_IMPORT, LARGE_IMPORT, 0, 0)

    assert books_in_database(stack) == 3 + 2 * LARGE_IMPORT
    record_stat(
        f"docker worker {stack.combo.id}",
        {"stop s": round(stop_seconds, 1), "rows done at stop": at_stop["rows_done"],
         "rows done at kill": at_kill["rows_done"]},
    )  # fmt: skip


@pytest.mark.parametrize("combo", [pytest.param(c, id=c.id) for c in DEV_VARIANTS])
def test_docker_development_stack_tests_and_reloads(
    cookies: Cookies, docker_engine: None, combo: Combination
) -> None:
    """`docker compose up` on a fresh bake (compose.override.yml included) serves the API,
    runs the test suite in the container, and picks up a source change without a restart."""
    project = docker_bake(cookies, project_name="Dev Library", **combo.context)
    index = len(DOCKER_VARIANTS) + DEV_VARIANTS.index(combo)
    compose = compose_stack(
        combo, project, WEB_PORT_BASE + index, MYSQL_PORT_BASE + index, "compose.override.yml"
    )
    # The development image is built for the caller, as `make up` does (root here: uid 0).
    compose.variables.update(DEV_UID=str(os.getuid()), DEV_GID=str(os.getgid()))
    try:
        compose("up", "--detach", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT))
        assert "Dev Library" in wait_for_page(compose.url("/"), "Dev Library")
        [worker] = containers(compose, "worker")
        assert worker["Health"] == "healthy"
        assert worker_starts(compose) == 1

        tests = compose("run", "--rm", "--no-deps", "web", "pytest", "-q", "-p", "no:cacheprovider")
        assert " passed" in tests.stdout.splitlines()[-1]
        assert "failed" not in tests.stdout.splitlines()[-1]

        settings = project / "config" / "settings" / "base.py"
        settings.write_text(settings.read_text().replace('"Dev Library"', '"Reloaded Library"'))
        assert "Reloaded Library" in wait_for_page(compose.url("/"), "Reloaded Library")
        # The worker reloaded too: its autoreloader started a new worker process.
        deadline = time.monotonic() + 30
        while worker_starts(compose) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert worker_starts(compose) == 2
    finally:
        compose.down()


def worker_starts(compose: Compose) -> int:
    """How many worker processes the worker service has started (db_worker logs each)."""
    logs = compose("logs", "--no-log-prefix", "--no-color", "worker").stdout
    return logs.count("Starting worker worker_id=")


# An unprivileged uid unlike the caller's (root here), and a gid the image
# already has (Debian's "users"), which the development stage must reuse.
DEV_UID, DEV_GID = 1234, 100


def test_docker_development_container_writes_files_as_the_host_user(
    cookies: Cookies, docker_engine: None
) -> None:
    """Built with DEV_UID and DEV_GID, the development container runs as that user, and
    what it writes into the mounted source (a new app, a migration, pytest's and ruff's
    caches) belongs to it; the venv is its own, so `make install` works inside."""
    combo = Combination("sqlite", "split")
    project = docker_bake(cookies, **combo.context)
    index = len(DOCKER_VARIANTS) + len(DEV_VARIANTS) + 1
    compose = compose_stack(
        combo, project, WEB_PORT_BASE + index, MYSQL_PORT_BASE + index, "compose.override.yml"
    )
    compose.variables.update(DEV_UID=str(DEV_UID), DEV_GID=str(DEV_GID))
    # The checkout belongs to the host user, as on a developer's machine (.env is 0600).
    for path in [project, *project.rglob("*")]:
        os.chown(path, DEV_UID, DEV_GID, follow_symlinks=False)
    script = " && ".join(
        (
            "id -u && id -g && id -un && echo $HOME",
            "python manage.py startapp probe",
            "python manage.py makemigrations books --empty --name probe",
            "python manage.py migrate --no-input",
            "pytest -x -q -p cacheprovider tests/test_isbn.py",
            "ruff check --no-fix --exit-zero . >/dev/null",  # the new app is unlinted
            "make install",
        )
    )
    try:
        started = time.monotonic()
        compose("build", timeout=UP_TIMEOUT + 300)
        build_seconds = time.monotonic() - started
        config = json.loads(run(["docker", "image", "inspect", compose.image]).stdout)[0]
        assert config["Config"]["User"] == f"{DEV_UID}:{DEV_GID}"

        started = time.monotonic()
        result = compose("run", "--rm", "web", "sh", "-c", script)
        run_seconds = time.monotonic() - started
        assert result.stdout.split()[:4] == [str(DEV_UID), str(DEV_GID), "dev", "/home/dev"]

        migrations = sorted((project / "books" / "migrations").glob("*_probe.py"))
        assert len(migrations) == 1, result.stdout
        written = [
            project / "probe",
            project / "probe" / "models.py",
            migrations[0],
            project / ".pytest_cache",
            project / ".ruff_cache",
        ]
        owners = {
            str(path.relative_to(project)): (path.stat().st_uid, path.stat().st_gid)
            for path in written
        }
        assert owners == dict.fromkeys(owners, (DEV_UID, DEV_GID))
        size = image_size_mb(compose.image)
        record_stat(
            "docker dev user",
            {"dev build s": round(build_seconds, 1), "writes s": round(run_seconds, 1),
             "dev image MB": round(size)},
        )  # fmt: skip
    finally:
        compose.down()


def wait_for_page(url: str, text: str, timeout: float = 60) -> str:
    """Poll ``url`` until its body contains ``text``; return the last body seen."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
            if text in body:
                return body
        except OSError:
            pass
        time.sleep(1)
    return body


def test_make_up_logs_down_drive_the_stack(cookies: Cookies, docker_engine: None) -> None:
    """`make up` starts the stack healthy, `make logs` follows it, `make down` stops it."""
    combo = Combination("sqlite", "split")
    project = docker_bake(cookies, **combo.context)
    # The production-like stack, as the Makefile's own comment shows how to run it.
    compose = compose_stack(
        combo, project, WEB_PORT_BASE + len(DOCKER_VARIANTS) + len(DEV_VARIANTS)
    )
    command = f"COMPOSE={' '.join(compose.command)}"
    try:
        run(["make", "up", command], cwd=project, env=compose.env, timeout=UP_TIMEOUT)
        assert http("GET", compose.url("/api/v1/books/"))[0] == 200

        logs = subprocess.run(
            ["timeout", "5", "make", "logs", command],
            cwd=project,
            env=compose.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert logs.returncode == 124, logs.stderr  # still following when stopped
        assert "web-1" in logs.stdout
        assert "GET /api/v1/books/" in logs.stdout

        run(["make", "down", command], cwd=project, env=compose.env, timeout=120)
        assert compose("ps", "--all", "--quiet").stdout.strip() == ""
    finally:
        compose.down()


WHICH_DATABASE = (
    "from django.db import connection; s = connection.settings_dict; "
    "print(connection.vendor, s['HOST'], s['PORT'], s['NAME'])"
)


def test_make_db_gives_development_and_the_suite_the_compose_database(
    cookies: Cookies, docker_engine: None, tools_venv: Path
) -> None:
    """`make db` starts the database that a fresh bake's .env names; with nothing else set,
    `make migrate test` and the Django shell then run on it, not on a SQLite file."""
    combo = Combination("postgresql", "split")
    project = docker_bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    # As a user whose port 15432 is taken would: change DB_PORT in .env.
    db_port = PG_PORT_BASE + 50
    env_file = project / ".env"
    env_file.write_text(env_file.read_text().replace("\nDB_PORT=15432\n", f"\nDB_PORT={db_port}\n"))
    compose = compose_stack(combo, project, WEB_PORT_BASE + 50, db_port, "compose.override.yml")
    # Only what a user's shell has: DB_PORT comes from .env.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    try:
        make(project, python, "db", env=env, COMPOSE=" ".join(compose.command))
        result = make(project, python, "migrate", "test", env=env)
        shell = subprocess.run(
            [str(python), "manage.py", "shell", "-c", WHICH_DATABASE],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        compose.down()

    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    assert "failed" not in summary
    assert "skipped" not in summary
    # The last line: Django's shell first says how many objects it imported.
    assert shell.stdout.splitlines()[-1].split() == ["postgresql", "127.0.0.1", str(db_port), "app"]
    assert not (project / "db.sqlite3").exists()


# Several web replicas behind nginx (compose.replicas.yml), on a real engine.
#
# A PostgreSQL bake runs docker-compose.yml with compose.replicas.yml: three
# web replicas of 4 gunicorn workers, the cache, nginx in front, and the
# migrate service, which runs once. Requests spread over every replica; a
# token issued through one works on all; the anonymous limit is exact across
# replicas; stopping a replica under load loses no request; `down` and `up`
# keep every row.

ANON_RATE = 60
# Clear of the other docker tests' ports (their offsets stay below 40).
OFFSET = 60


@pytest.fixture
def replicas(cookies: Cookies, docker_engine: None) -> Iterator[Compose]:
    """Three replicas of 4 workers; the anonymous limit at ANON_RATE, users unlimited."""
    web_env = {
        "GUNICORN_CMD_ARGS": "--workers 4",
        "DJANGO_THROTTLE_ANON": f"{ANON_RATE}/minute",
        "DJANGO_THROTTLE_USER": "100000/minute",
    }
    project = bake(cookies, **Combination("postgresql", "split").context)
    with replicas_stack(project, OFFSET, web_env) as stack:
        yield stack


def containers(stack: Compose, service: str) -> list[dict[str, Any]]:
    result = stack("ps", "--all", "--format", "json", service)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def replicas_that_logged(stack: Compose, marker: str) -> set[str]:
    """The web containers whose log has a line carrying ``marker`` (e.g. in a request id)."""
    logs = stack("logs", "--no-color", "web").stdout
    return {line.split("|", 1)[0].strip() for line in logs.splitlines() if marker in line}


def superuser_authorization(stack: Compose) -> str:
    """An Authorization header for a new superuser (staff), as the API issues it."""
    password = uuid.uuid4().hex
    stack(
        "exec", "-T", "-e", f"DJANGO_SUPERUSER_PASSWORD={password}", "--index", "1", "web",
        "python", "manage.py", "createsuperuser", "--no-input", "--username", "admin",
        "--email", "admin@example.com",
    )  # fmt: skip
    status, body = http(
        "POST", stack.url("/api/v1/auth/token/"), {"username": "admin", "password": password}
    )
    assert status == 200, body
    # token authentication answers {"token"}; JWT {"access", "refresh"}.
    return f"Token {body['token']}" if "token" in body else f"Bearer {body['access']}"


def test_replicas_behind_the_proxy(replicas: Compose) -> None:
    """Spread, shared tokens, an exact limit, no lost request when a replica stops, rows kept."""
    stack, base = replicas, replicas.url("")
    webs = containers(stack, "web")
    migrations = containers(stack, "migrate")
    assert len(webs) == REPLICAS
    assert [(c["State"], c["ExitCode"]) for c in migrations] == [("exited", 0)]
    # Two workers, each healthy: each one's own check finds it beating.
    workers = containers(stack, "worker")
    assert [(c["State"], c["Health"]) for c in workers] == [("running", "healthy")] * 2

    # A token issued through one replica works on every one. Getting it is an
    # anonymous request, which the anonymous rate counts (kept clear of a
    # window's end, so the window it fell in is known).
    start_of_a_window()
    authorization = superuser_authorization(stack)
    token_window = time.time() // 60
    # Each write carries a request id starting with the marker, which the
    # replica that serves it logs on its access line.
    marker = uuid.uuid4().hex[:24]
    for n in range(30):
        book = {"title": f"Book {n} {marker}", "author": "A. Uthor", "isbn": isbn13(n)}
        status, body = http(
            "POST", f"{base}/api/v1/books/", book, authorization, request_id=f"{marker}{n:08x}"
        )
        assert status == 201, body
    served = replicas_that_logged(stack, marker)
    assert len(served) == REPLICAS, served
    metrics_are_not_proxied(stack)

    # The anonymous limit holds across the replicas: 60 of 200 requests get
    # through, less the token request when it fell in the same window.
    start_of_a_window()
    allowed = ANON_RATE - int(time.time() // 60 == token_window)
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: http("GET", f"{base}/api/v1/books/")[0], range(200)))
    assert (codes.count(200), codes.count(429)) == (allowed, 200 - allowed)

    # A replica stops under load: every read still succeeds (nginx retries another).
    failures: list[Any] = []
    answered = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal answered
        request = urllib.request.Request(f"{base}/api/v1/books/")
        request.add_header("Authorization", authorization)
        while not stop.is_set():
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    json.loads(response.read())
            except urllib.error.HTTPError as error:
                failures.append(f"{error.code}: {error.read()[:80]!r}")
            except Exception as error:  # every failure is counted, none lost
                failures.append(repr(error))
            answered += 1

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    subprocess.run(["docker", "stop", "--time", "10", webs[-1]["Name"]], check=True)
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert answered > 50

    # down and up keep every row.
    stack("down", "--timeout", "10")
    stack("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT), timeout=UP_TIMEOUT + 60)
    status, body = http("GET", f"{base}/api/v1/books/?search={marker}", authorization=authorization)
    assert (status, body["count"]) == (200, 30)
    record_stat(
        "docker replicas",
        {"replicas served": len(served), "anon let through": codes.count(200),
         "reads while a replica stopped": answered, "failed": len(failures)},
    )  # fmt: skip


# Run in a web container: its metrics, from the metrics port (DJANGO_METRICS_PORT).
READ_METRICS = (
    "import os, urllib.request; port = os.environ.get('DJANGO_METRICS_PORT', '8001'); "
    "print(urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=5).read().decode())"
)


def get_page(url: str, request_id: str) -> tuple[int, Any, str]:
    """One GET of a page that may not be JSON: the status, the headers and the body."""
    request = urllib.request.Request(url, headers={"X-Request-ID": request_id})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def proxied_ports(nginx_conf: str) -> set[int]:
    """The ports of every upstream server and proxy_pass address in an nginx configuration."""
    servers = re.findall(r"^\s*server\s+[^\s:;]+:(\d+)", nginx_conf, re.MULTILINE)
    passes = re.findall(r"proxy_pass\s+https?://[^\s/:;]+:(\d+)", nginx_conf)
    return {int(port) for port in [*servers, *passes]}


def metrics_are_not_proxied(stack: Compose) -> None:
    """nginx forwards the API's port alone: /metrics through it is a replica's 404 page
    (Django's: no such URL outside /api/), with no metric in it, while the web
    containers' metrics port does serve them."""
    shipped = (stack.project / "deploy" / "nginx.conf").read_text()
    assert proxied_ports(shipped) == {8000}
    assert re.findall(r"proxy_pass\s+(\S+);", shipped) == ["http://web"]

    request_id = str(uuid.uuid4())
    status, headers, body = get_page(stack.url("/metrics"), request_id)
    assert status == 404
    # Django answered (nginx would neither return the id nor log it on a replica).
    assert headers["X-Request-ID"] == request_id
    assert len(replicas_that_logged(stack, request_id)) == 1
    assert "django_http_requests_total" not in body
    served = stack("exec", "-T", "--index", "1", "web", "python", "-c", READ_METRICS).stdout
    assert "django_http_requests_total" in served


def isbn13(serial: int) -> str:
    first = f"979100{serial:06d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)


# Prometheus beside the stack (compose.observability.yml), on a real engine.
#
# A SQLite bake runs docker-compose.yml with compose.observability.yml; the
# test reads what Prometheus scraped through its HTTP API. On host-network
# machines Prometheus is the host's binary in a stand-in image, scraping the
# stack's metrics ports (tests/support/docker.py says how); elsewhere it is
# the shipped prom/prometheus with deploy/prometheus.yml as it is.

# Clear of the other docker tests' ports.
OBSERVABILITY_OFFSET = 70
# Two scrape intervals (15 s), and some slack for a busy machine.
SCRAPED_WITHIN = 60


def prometheus_query(compose: Compose, promql: str) -> list[dict[str, Any]]:
    """The instant vector Prometheus's HTTP API answers for ``promql``."""
    url = prometheus_url(compose, "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    status, body = http("GET", url)
    assert (status, body["status"]) == (200, "success"), body
    return cast(list[dict[str, Any]], body["data"]["result"])


def scraped(
    compose: Compose, promql: str, done: Callable[[list[dict[str, Any]]], Any]
) -> list[dict[str, Any]]:
    """Poll ``promql`` until ``done(result)`` holds (Prometheus scrapes every 15 s)."""
    deadline = time.monotonic() + SCRAPED_WITHIN
    while True:
        result = prometheus_query(compose, promql)
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_prometheus_scrapes_the_web_and_the_worker(cookies: Cookies, docker_engine: None) -> None:
    """`up` with compose.observability.yml brings Prometheus up healthy; it scrapes the web
    (gunicorn's master: its workers' sum) and the worker on their metrics port, both
    targets are up, the API's requests are counted and the worker reports the task queue;
    the API's own port answers /metrics with a 404 page, not the metrics."""
    reason = prometheus_unavailable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"{reason}; CI must run the Prometheus test")
        pytest.skip(reason)
    combo = Combination("sqlite", "split")
    project = docker_bake(cookies, **combo.context)
    compose = compose_stack(
        combo, project, WEB_PORT_BASE + OBSERVABILITY_OFFSET, 0, "compose.observability.yml",
        name_prefix="ddd-observability",
    )  # fmt: skip
    try:
        compose("config", "-q")
        compose.up_built()
        [prometheus] = containers(compose, "prometheus")
        assert (prometheus["State"], prometheus["Health"]) == ("running", "healthy")
        for _ in range(5):
            assert http("GET", compose.url("/api/v1/books/"))[0] == 200
        status, _, body = get_page(compose.url("/metrics"), str(uuid.uuid4()))
        assert status == 404
        assert "django_http_requests_total" not in body

        up = scraped(compose, "up", lambda r: len(r) == 2 and all(s["value"][1] == "1" for s in r))
        assert sorted((s["metric"]["job"], s["value"][1]) for s in up) == [
            ("web", "1"),
            ("worker", "1"),
        ]
        served = 'sum(django_http_requests_total{job="web", method="GET", status="200"})'
        requests = scraped(compose, served, lambda r: r and float(r[0]["value"][1]) >= 5)
        assert requests, "no request counted"
        assert float(requests[0]["value"][1]) >= 5, requests
        queue = scraped(compose, 'django_tasks{job="worker", status="READY"}', bool)
        assert [s["metric"]["queue"] for s in queue] == ["default"], queue

        status, body = http("GET", prometheus_url(compose, "/api/v1/targets"))
        assert status == 200
        targets = body["data"]["activeTargets"]
        assert sorted(target["labels"]["job"] for target in targets) == ["web", "worker"]
        assert all(target["scrapeUrl"].endswith("/metrics") for target in targets), targets
        record_stat(
            "docker prometheus",
            {"targets up": len(up), "GET 200 counted": float(requests[0]["value"][1])},
        )
    finally:
        compose.down()
