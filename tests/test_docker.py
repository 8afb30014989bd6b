"""Baked projects built and run with Docker Compose on a real engine.

For each listed variant: the compose files are valid; the image builds; the
stack comes up healthy; the API answers, issues a token and accepts a book;
the book survives ``down`` and ``up``; the runtime image passes the deploy
checks, runs as a non-root user and holds no ``.env`` or secret.

Here the engine comes from ``../shared/docker-sandbox/up``: host networking
only, so the tests write a test-only override file that puts every service on
the host network, on ports that miss the machine's own database servers. The
project's own compose files stay as users run them. Without an engine the
tests skip with the reason; with ``CI`` set they fail instead.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, Combination, bake, make, record_stat, tasks
from tests.test_scaling import start_of_a_window

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# Every database with the default layout, the other layout once, each Python once.
DOCKER_VARIANTS = (
    Combination("postgresql", "split", "3.13"),
    Combination("mysql", "split", "3.13"),
    Combination("sqlite", "split", "3.12"),
    Combination("postgresql", "single", "3.14", api_auth="jwt"),
)
# Ports per variant, clear of the machine's own 5432/3306/8000.
WEB_PORT_BASE, PG_PORT_BASE, MYSQL_PORT_BASE = 18100, 15500, 13400
# Each stack's cache listens at this base plus its web port's offset.
CACHE_PORT_BASE = 16400
UP_TIMEOUT = 300


def docker_unavailable() -> str | None:
    """Why Docker cannot be used here, or None when the engine and Compose v2 answer."""
    docker = shutil.which("docker")
    if docker is None:
        return "the docker command is not installed"
    for command in (["info"], ["compose", "version"]):
        result = subprocess.run([docker, *command], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            return f"`docker {' '.join(command)}` failed: {result.stderr.strip()[:200]}"
    return None


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip without an engine (fail under CI); make the 3.12 stand-in usable by non-root users."""
    reason = docker_unavailable()
    if reason is not None:
        message = f"no Docker engine: {reason} (run ../shared/docker-sandbox/up)"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the docker tests")
        pytest.skip(message)
    fix_python_standin_permissions("python:3.12-slim")
    if tasks.SHARED_PYPI_COMPAT.is_dir():
        for tag in PYTHON_STANDINS:
            add_index_html_fallback(tag)


def fix_python_standin_permissions(tag: str) -> None:
    """Let non-root users run the interpreter of a sandbox stand-in image.

    The sandbox builds its python:3.12-slim stand-in from pyenv's CPython,
    left under /root (mode 700), so the image's non-root user cannot start
    Python; the official image keeps it in /usr/local. Rebuild the tag with
    /root traversable, once, so the stand-in behaves like the official image.
    The template's Dockerfile is unchanged.
    """
    probe = [
        "docker",
        "run",
        "--rm",
        "--network",
        "host",
        "--user",
        "10001",
        tag,
        "python",
        "-c",
        "",
    ]
    if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return
    fix = subprocess.run(
        ["docker", "build", "--network", "host", "-t", tag, "-"],
        input=f"FROM {tag}\nRUN chmod 755 /root\n",
        capture_output=True,
        text=True,
        check=False,
        env={**tasks.tool_env(), "DOCKER_BUILDKIT": "0"},
    )
    assert fix.returncode == 0, fix.stderr


# The sandbox's stand-ins for the official Python images the Dockerfile builds on.
PYTHON_STANDINS = ("python:3.12-slim", "python:3.13-slim", "python:3.14-slim")


def add_index_html_fallback(tag: str) -> None:
    """This project's CI machines only: let Poetry in a stand-in image read HTML index pages.

    The sandbox's images carry ../shared/pypi-compat in their sitecustomize;
    where the machine's index serves its simple pages as HTML only, Poetry
    still fails there. Append .ci/pypi-compat's fallback to that module, once
    per tag. The template's Dockerfile is unchanged.
    """
    marker = "_HtmlFallbackFinder"
    probe = ["docker", "run", "--rm", "--network", "host", tag, "python", "-c"]
    check = f"import sitecustomize, sys; sys.exit(not hasattr(sitecustomize, {marker!r}))"
    if subprocess.run([*probe, check], capture_output=True, check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(tasks.PYPI_COMPAT / "sitecustomize.py", Path(context) / "fallback.py")
        dockerfile = (
            f"FROM {tag}\n"
            "COPY fallback.py /tmp/fallback.py\n"
            'RUN python -c "import sitecustomize; '
            "open(sitecustomize.__file__, 'a').write(open('/tmp/fallback.py').read())\" "
            "&& rm /tmp/fallback.py\n"
        )
        (Path(context) / "Dockerfile").write_text(dockerfile)
        fix = subprocess.run(
            ["docker", "build", "--network", "host", "-t", tag, context],
            capture_output=True,
            text=True,
            check=False,
            env={**tasks.tool_env(), "DOCKER_BUILDKIT": "0"},
        )
    assert fix.returncode == 0, fix.stderr


# The image's HEALTHCHECK checks every 30 s, and every second while the
# container starts (--start-interval, Docker 25, API 1.44). Older engines
# refuse to parse that flag; on them the tests build a copy without it that
# checks every second instead, as the start interval would while starting.
START_INTERVAL_API = (1, 44)
SECOND = 1_000_000_000  # image configs give durations in nanoseconds
SHIPPED_HEALTHCHECK = "--interval=30s --timeout=3s --start-period=30s --start-interval=1s"
OLD_ENGINE_HEALTHCHECK = "--interval=1s --timeout=3s --start-period=30s"


def engine_api_version() -> tuple[int, ...]:
    result = run(["docker", "version", "--format", "{{.Server.APIVersion}}"])
    return tuple(int(part) for part in result.stdout.strip().split("."))


def docker_bake(output_dir: Path, **context: str) -> Path:
    """A bake whose Dockerfile this engine can build (see START_INTERVAL_API)."""
    project = bake(output_dir, **context)
    if engine_api_version() < START_INTERVAL_API:
        dockerfile = project / "Dockerfile"
        text = dockerfile.read_text()
        assert SHIPPED_HEALTHCHECK in text
        dockerfile.write_text(text.replace(SHIPPED_HEALTHCHECK, OLD_ENGINE_HEALTHCHECK))
    return project


def compose_command(name: str, *files: str | Path) -> list[str]:
    """`docker compose` for project ``name``: docker-compose.yml, then ``files`` on top."""
    paths = ("docker-compose.yml", *map(str, files))
    return ["docker", "compose", "-p", name, *(arg for path in paths for arg in ("-f", path))]


def compose_down(compose: list[str], project: Path) -> None:
    """Remove a test stack with its volumes and images; a cleanup, so failures are ignored."""
    subprocess.run(
        [*compose, "down", "-v", "--rmi", "local", "--timeout", "5"],
        cwd=project,
        capture_output=True,
        check=False,
        timeout=120,
    )


@dataclass
class Stack:
    """A baked project and the compose command that runs it on the host network."""

    combo: Combination
    project: Path
    name: str
    web_port: int
    db_port: int
    override: Path

    def compose(self, *args: str, timeout: float = UP_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return run(
            [*compose_command(self.name, self.override), *args], cwd=self.project, timeout=timeout
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    @property
    def image(self) -> str:
        return f"{self.name}-web"

    def env_value(self, name: str) -> str:
        for line in (self.project / ".env").read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise KeyError(name)


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; assert it succeeds, showing its output when it does not."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def override_text(
    combo: Combination, web_port: int, db_port: int, password: str, user: str = "app"
) -> str:
    """The test-only compose file: host networking, free ports, service names resolved."""
    cache_port = CACHE_PORT_BASE + web_port - WEB_PORT_BASE
    app = {
        "network_mode": "host",
        "build": {"network": "host"},
        "extra_hosts": ["db:127.0.0.1", "cache:127.0.0.1"],
        "environment": {"REDIS_URL": f"redis://cache:{cache_port}/0"},
    }
    services: dict[str, Any] = {"migrate": json.loads(json.dumps(app)), "web": app}
    services["cache"] = {
        "network_mode": "host",
        "command": ["--port", str(cache_port), "--save", "", "--appendonly", "no"],
        "healthcheck": {"test": ["CMD", "redis-cli", "-p", str(cache_port), "ping"]},
    }
    if combo.database == "postgresql":
        url = f"postgres://{user}:{password}@db:{db_port}/app"
        services["db"] = {"network_mode": "host", "environment": {"PGPORT": str(db_port)}}
    elif combo.database == "mysql":
        url = f"mysql://{user}:{password}@db:{db_port}/app"
        services["db"] = {
            "network_mode": "host",
            "command": [
                f"--port={db_port}",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ],
            # The sandbox's stand-in healthcheck.sh ignores --connect and pings
            # the socket, which its first-run set-up server (no networking)
            # answers too: ask the real server on its TCP port instead.
            "healthcheck": {
                "test": [
                    "CMD",
                    "mariadb-admin",
                    "--protocol=tcp",
                    "--host=127.0.0.1",
                    f"--port={db_port}",
                    "ping",
                    "--silent",
                ]
            },
        }
    else:
        url = "sqlite:////data/db.sqlite3"
    for service in ("migrate", "web"):
        services[service]["environment"]["DATABASE_URL"] = url
    services["web"]["environment"]["PORT"] = str(web_port)
    # JSON is YAML: no YAML library needed to write it.
    return json.dumps({"services": services}, indent=2)


@pytest.fixture(params=[pytest.param(c, id=c.id) for c in DOCKER_VARIANTS])
def stack(request: pytest.FixtureRequest, tmp_path: Path, docker_engine: None) -> Iterator[Stack]:
    combo: Combination = request.param
    index = DOCKER_VARIANTS.index(combo)
    project = docker_bake(tmp_path, **combo.context)
    db_base = PG_PORT_BASE if combo.database == "postgresql" else MYSQL_PORT_BASE
    stack = Stack(
        combo=combo,
        project=project,
        name=f"ddd-{combo.id.replace('.', '')}-{uuid.uuid4().hex[:6]}",
        web_port=WEB_PORT_BASE + index,
        db_port=db_base + index,
        override=tmp_path / "test-override.yml",
    )
    password = stack.env_value("DB_PASSWORD") if combo.database != "sqlite" else ""
    stack.override.write_text(override_text(combo, stack.web_port, stack.db_port, password))
    try:
        yield stack
    finally:
        compose_down(compose_command(stack.name, stack.override), project)


def http(
    method: str,
    url: str,
    data: dict[str, str] | None = None,
    authorization: str = "",
    request_id: str = "",
) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)
    if request_id:
        request.add_header("X-Request-ID", request_id)
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        request.add_header("Content-Type", "application/json")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, body, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def image_size_mb(image: str) -> float:
    inspect = run(["docker", "image", "inspect", image, "--format", "{{.Size}}"])
    return int(inspect.stdout.strip()) / 1e6


def test_docker_stack_builds_serves_and_keeps_data(stack: Stack) -> None:
    """Build, up, healthy, read, authenticate, write, down and up again: the book is still there."""
    run(["docker", "compose", "-f", "docker-compose.yml", "config", "-q"], cwd=stack.project)
    stack.compose("config", "-q")

    started = time.monotonic()
    stack.compose("build")
    build_seconds = time.monotonic() - started
    started = time.monotonic()
    stack.compose("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT))
    up_seconds = time.monotonic() - started

    status, body = http("GET", stack.url("/api/v1/books/"))
    assert (status, body["count"]) == (200, 0)
    assert http("GET", stack.url("/health/ready"))[0] == 200
    request_id_is_returned_and_logged_as_json(stack)

    password = uuid.uuid4().hex
    stack.compose(
        "exec",
        "-T",
        "-e",
        f"DJANGO_SUPERUSER_PASSWORD={password}",
        "web",
        "python",
        "manage.py",
        "createsuperuser",
        "--no-input",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
    )
    status, body = http(
        "POST", stack.url("/api/v1/auth/token/"), {"username": "admin", "password": password}
    )
    assert status == 200, body
    # token authentication answers {"token"}; JWT {"access", "refresh"}.
    authorization = f"Token {body['token']}" if "token" in body else f"Bearer {body['access']}"
    book = {"title": "Dune", "author": "Frank Herbert", "isbn": "978-0-441-17271-9"}
    status, body = http("POST", stack.url("/api/v1/books/"), book, authorization=authorization)
    assert status == 201, body

    stack.compose("down", "--timeout", "10")
    stack.compose("up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT))
    status, body = http("GET", stack.url("/api/v1/books/"))
    assert status == 200
    assert [(b["title"], b["isbn"]) for b in body["results"]] == [("Dune", "9780441172719")]

    web_uid = stack.compose(
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


def request_id_is_returned_and_logged_as_json(stack: Stack) -> None:
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
        output = stack.compose("logs", "--no-log-prefix", "--no-color", "web").stdout
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


def test_docker_runtime_image_is_safe(stack: Stack) -> None:
    """The runtime image passes check --deploy, runs as non-root and holds no secret."""
    stack.compose("build", "web")
    secret = stack.env_value("DJANGO_SECRET_KEY")

    deploy = run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "host",
            "-e",
            f"DJANGO_SECRET_KEY=deploy-check-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "-e",
            "DJANGO_ALLOWED_HOSTS=api.example.com",
            "-e",
            "REDIS_URL=redis://cache:6379/0",
            stack.image,
            "python",
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ]
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
            "--network",
            "host",
            stack.image,
            "sh",
            "-c",
            f"test ! -e /app/.env && (grep -rlF '{secret}' /app /opt/venv || true)",
        ]
    )
    assert files.stdout.strip() == ""
    history = run(["docker", "history", "--no-trunc", stack.image]).stdout
    assert secret not in history


DEV_VARIANTS = (Combination("sqlite", "split"), Combination("mysql", "single"))


@pytest.mark.parametrize("combo", [pytest.param(c, id=c.id) for c in DEV_VARIANTS])
def test_docker_development_stack_tests_and_reloads(
    tmp_path: Path, docker_engine: None, combo: Combination
) -> None:
    """`docker compose up` on a fresh bake (compose.override.yml included) serves the API,
    runs the test suite in the container, and picks up a source change without a restart."""
    project = docker_bake(tmp_path, project_name="Dev Library", **combo.context)
    index = len(DOCKER_VARIANTS) + DEV_VARIANTS.index(combo)
    port, db_port = WEB_PORT_BASE + index, MYSQL_PORT_BASE + index
    user, password = "app", ""
    if combo.database == "mysql":
        # The development override connects as root, so the tests can create their database.
        user = "root"
        password = next(
            line.split("=", 1)[1]
            for line in (project / ".env").read_text().splitlines()
            if line.startswith("DB_ROOT_PASSWORD=")
        )
    services = json.loads(override_text(combo, port, db_port, password, user=user))["services"]
    services["web"]["command"] = ["python", "manage.py", "runserver", f"0.0.0.0:{port}"]
    override = tmp_path / "test-override.yml"
    override.write_text(json.dumps({"services": services}))
    name = f"ddd-dev-{uuid.uuid4().hex[:6]}"
    compose = compose_command(name, "compose.override.yml", override)
    # The development image is built for the caller, as `make up` does (root here: uid 0).
    env = {**os.environ, "DEV_UID": str(os.getuid()), "DEV_GID": str(os.getgid())}
    try:
        run(
            [*compose, "up", "--detach", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT)],
            cwd=project,
            env=env,
            timeout=UP_TIMEOUT,
        )
        assert "Dev Library" in wait_for_page(f"http://127.0.0.1:{port}/", "Dev Library")

        tests = run(
            [*compose, "run", "--rm", "--no-deps", "web", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=project,
            env=env,
            timeout=UP_TIMEOUT,
        )
        assert " passed" in tests.stdout.splitlines()[-1]
        assert "failed" not in tests.stdout.splitlines()[-1]

        settings = project / "config" / "settings" / "base.py"
        settings.write_text(settings.read_text().replace('"Dev Library"', '"Reloaded Library"'))
        assert "Reloaded Library" in wait_for_page(f"http://127.0.0.1:{port}/", "Reloaded Library")
    finally:
        compose_down(compose, project)


# An unprivileged uid unlike the caller's (root here), and a gid the image
# already has (Debian's "users"), which the development stage must reuse.
DEV_UID, DEV_GID = 1234, 100


def test_docker_development_container_writes_files_as_the_host_user(
    tmp_path: Path, docker_engine: None
) -> None:
    """Built with DEV_UID and DEV_GID, the development container runs as that user, and
    what it writes into the mounted source (a new app, a migration, pytest's and ruff's
    caches) belongs to it; the venv is its own, so `make install` works inside."""
    combo = Combination("sqlite", "split")
    project = docker_bake(tmp_path, **combo.context)
    port = WEB_PORT_BASE + len(DOCKER_VARIANTS) + len(DEV_VARIANTS) + 1
    override = tmp_path / "test-override.yml"
    override.write_text(override_text(combo, port, 0, ""))
    name = f"ddd-devuser-{uuid.uuid4().hex[:6]}"
    compose = compose_command(name, "compose.override.yml", override)
    env = {**os.environ, "DEV_UID": str(DEV_UID), "DEV_GID": str(DEV_GID)}
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
        run([*compose, "build"], cwd=project, env=env, timeout=UP_TIMEOUT + 300)
        build_seconds = time.monotonic() - started
        config = json.loads(run(["docker", "image", "inspect", f"{name}-web"]).stdout)[0]
        assert config["Config"]["User"] == f"{DEV_UID}:{DEV_GID}"

        started = time.monotonic()
        result = run(
            [*compose, "run", "--rm", "web", "sh", "-c", script],
            cwd=project,
            env=env,
            timeout=UP_TIMEOUT,
        )
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
        size = image_size_mb(f"{name}-web")
        record_stat(
            "docker dev user",
            {"dev build s": round(build_seconds, 1), "writes s": round(run_seconds, 1),
             "dev image MB": round(size)},
        )  # fmt: skip
    finally:
        compose_down(compose, project)


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


def test_make_up_logs_down_drive_the_stack(tmp_path: Path, docker_engine: None) -> None:
    """`make up` starts the stack healthy, `make logs` follows it, `make down` stops it."""
    combo = Combination("sqlite", "split")
    project = docker_bake(tmp_path, **combo.context)
    port = WEB_PORT_BASE + len(DOCKER_VARIANTS) + len(DEV_VARIANTS)
    override = tmp_path / "test-override.yml"
    override.write_text(override_text(combo, port, 0, ""))
    name = f"ddd-make-{uuid.uuid4().hex[:6]}"
    compose = " ".join(compose_command(name, override))  # for make's COMPOSE=
    try:
        run(["make", "up", f"COMPOSE={compose}"], cwd=project, timeout=UP_TIMEOUT)
        assert http("GET", f"http://127.0.0.1:{port}/api/v1/books/")[0] == 200

        logs = subprocess.run(
            ["timeout", "5", "make", "logs", f"COMPOSE={compose}"],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
        assert logs.returncode == 124, logs.stderr  # still following when stopped
        assert "web-1" in logs.stdout
        assert "GET /api/v1/books/" in logs.stdout

        run(["make", "down", f"COMPOSE={compose}"], cwd=project, timeout=120)
        ps = run(["docker", "compose", "-p", name, "ps", "--all", "--quiet"], cwd=project)
        assert ps.stdout.strip() == ""
    finally:
        compose_down(compose.split(), project)


WHICH_DATABASE = (
    "from django.db import connection; s = connection.settings_dict; "
    "print(connection.vendor, s['HOST'], s['PORT'], s['NAME'])"
)


def test_make_db_gives_development_and_the_suite_the_compose_database(
    tmp_path: Path, docker_engine: None, tools_venv: Path
) -> None:
    """`make db` starts the database that a fresh bake's .env names; with nothing else set,
    `make migrate test` and the Django shell then run on it, not on a SQLite file."""
    combo = Combination("postgresql", "split")
    project = docker_bake(tmp_path, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    # As a user whose port 15432 is taken would: change DB_PORT in .env.
    db_port = PG_PORT_BASE + 50
    env_file = project / ".env"
    env_file.write_text(env_file.read_text().replace("\nDB_PORT=15432\n", f"\nDB_PORT={db_port}\n"))
    override = tmp_path / "test-override.yml"
    db = {"network_mode": "host", "environment": {"PGPORT": str(db_port)}}
    override.write_text(json.dumps({"services": {"db": db}}))
    name = f"ddd-makedb-{uuid.uuid4().hex[:6]}"
    compose = compose_command(name, "compose.override.yml", override)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    try:
        make(project, python, "db", env=env, COMPOSE=" ".join(compose))
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
        compose_down(compose, project)

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
#
# On this project's CI machines the engine allows host networking only (see
# tests/test_docker.py): the replicas then share one port (gunicorn's
# --reuse-port, set by the test-only override), and nginx gets the shipped
# deploy/nginx.conf with its `listen` port and one `server` line per replica
# rewritten to that address, as Docker's DNS would answer one address per
# replica. Every other line of the shipped configuration is used as it is.

REPLICAS = 3
ANON_RATE = 60
# Clear of the other docker tests' ports (their offsets stay below 40).
OFFSET = 60


def nginx_conf_for_host_network(shipped: str, listen: int, web_port: int, replicas: int) -> str:
    """The shipped nginx.conf with the proxy's port and the replicas' addresses on this host."""
    conf, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", shipped)
    server = re.search(r"^(\s*)server web:8000(.*);$", shipped, re.MULTILINE)
    assert listens == 1, "deploy/nginx.conf: no 'listen 80;'"
    assert server is not None, "deploy/nginx.conf: no 'server web:8000...;'"
    indent, options = server.groups()
    lines = "\n".join(f"{indent}server 127.0.0.1:{web_port}{options};" for _ in range(replicas))
    return conf.replace(server.group(0), lines)


@contextmanager
def replicas_stack(
    tmp_path: Path, offset: int, web_env: dict[str, str], replicas: int = REPLICAS
) -> Iterator[dict[str, Any]]:
    """A PostgreSQL bake up and healthy with compose.replicas.yml (``replicas`` web
    replicas with ``web_env``); yields its compose command and environment, the project
    and the proxy's URL."""
    combo = Combination("postgresql", "split")
    project = docker_bake(tmp_path, **combo.context)
    web_port, db_port = WEB_PORT_BASE + offset, PG_PORT_BASE + offset
    proxy_port = web_port + 1
    password = next(
        line.split("=", 1)[1]
        for line in (project / ".env").read_text().splitlines()
        if line.startswith("DB_PASSWORD=")
    )
    services = json.loads(override_text(combo, web_port, db_port, password))["services"]
    services["web"]["environment"].update({"GUNICORN_CMD_ARGS": "--reuse-port", **web_env})
    conf = tmp_path / "nginx.conf"
    shipped = (project / "deploy" / "nginx.conf").read_text()
    conf.write_text(nginx_conf_for_host_network(shipped, proxy_port, web_port, replicas))
    services["proxy"] = {
        "network_mode": "host",
        "volumes": [f"{conf}:/etc/nginx/conf.d/default.conf:ro"],
    }
    override = tmp_path / "test-override.yml"
    override.write_text(json.dumps({"services": services}))
    name = f"ddd-replicas-{uuid.uuid4().hex[:6]}"
    compose = compose_command(name, "compose.replicas.yml", override)
    env = {**os.environ, "WEB_REPLICAS": str(replicas)}
    try:
        run([*compose, "config", "-q"], cwd=project, env=env)
        run(
            [*compose, "up", "--detach", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT)],
            cwd=project,
            env=env,
            timeout=UP_TIMEOUT + 300,
        )
        yield {
            "compose": compose,
            "env": env,
            "project": project,
            "base": f"http://127.0.0.1:{proxy_port}",
        }
    finally:
        compose_down(compose, project)


@pytest.fixture
def replicas(tmp_path: Path, docker_engine: None) -> Iterator[dict[str, Any]]:
    """Three replicas of 4 workers; the anonymous limit at ANON_RATE, users unlimited."""
    web_env = {
        "GUNICORN_WORKERS": "4",
        "DJANGO_THROTTLE_ANON": f"{ANON_RATE}/minute",
        "DJANGO_THROTTLE_USER": "100000/minute",
    }
    with replicas_stack(tmp_path, OFFSET, web_env) as stack:
        yield stack


def containers(stack: dict[str, Any], service: str) -> list[dict[str, Any]]:
    result = run(
        [*stack["compose"], "ps", "--all", "--format", "json", service], cwd=stack["project"]
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def replicas_that_logged(stack: dict[str, Any], marker: str) -> set[str]:
    """The web containers whose log has a line carrying ``marker`` (e.g. in a request id)."""
    logs = run([*stack["compose"], "logs", "--no-color", "web"], cwd=stack["project"]).stdout
    return {line.split("|", 1)[0].strip() for line in logs.splitlines() if marker in line}


def superuser_token(stack: dict[str, Any]) -> str:
    password = uuid.uuid4().hex
    run(
        [
            *stack["compose"], "exec", "-T", "-e", f"DJANGO_SUPERUSER_PASSWORD={password}",
            "--index", "1", "web", "python", "manage.py", "createsuperuser", "--no-input",
            "--username", "admin", "--email", "admin@example.com",
        ],
        cwd=stack["project"],
    )  # fmt: skip
    status, body = http(
        "POST", f"{stack['base']}/api/v1/auth/token/", {"username": "admin", "password": password}
    )
    assert status == 200, body
    return f"Token {body['token']}"


def test_replicas_behind_the_proxy(replicas: dict[str, Any]) -> None:
    """Spread, shared tokens, an exact limit, no lost request when a replica stops, rows kept."""
    stack, base = replicas, replicas["base"]
    webs = containers(stack, "web")
    migrations = containers(stack, "migrate")
    assert len(webs) == REPLICAS
    assert [(c["State"], c["ExitCode"]) for c in migrations] == [("exited", 0)]

    # A token issued through one replica works on every one.
    authorization = superuser_token(stack)
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

    # The anonymous limit holds across the replicas: 60 of 200 requests get through.
    start_of_a_window()
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(lambda _: http("GET", f"{base}/api/v1/books/")[0], range(200)))
    assert (codes.count(200), codes.count(429)) == (ANON_RATE, 200 - ANON_RATE)

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
    run([*stack["compose"], "down", "--timeout", "10"], cwd=stack["project"], env=stack["env"])
    run(
        [*stack["compose"], "up", "--detach", "--wait", "--wait-timeout", str(UP_TIMEOUT)],
        cwd=stack["project"],
        env=stack["env"],
        timeout=UP_TIMEOUT + 60,
    )
    status, body = http("GET", f"{base}/api/v1/books/?search={marker}", authorization=authorization)
    assert (status, body["count"]) == (200, 30)
    record_stat(
        "docker replicas",
        {"replicas served": len(served), "anon let through": codes.count(200),
         "reads while a replica stopped": answered, "failed": len(failures)},
    )  # fmt: skip


def isbn13(serial: int) -> str:
    first = f"979100{serial:06d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first))
    return first + str(-total % 10)
