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
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, Combination, bake, record_stat, tasks

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
    app = {
        "network_mode": "host",
        "build": {"network": "host"},
        "extra_hosts": ["db:127.0.0.1"],
        "environment": {},
    }
    services: dict[str, Any] = {"migrate": json.loads(json.dumps(app)), "web": app}
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
    project = bake(tmp_path, **combo.context)
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
    method: str, url: str, data: dict[str, str] | None = None, authorization: str = ""
) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method)
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
    assert "/health/live" in " ".join(config["Healthcheck"]["Test"])

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
    project = bake(tmp_path, project_name="Dev Library", **combo.context)
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
    try:
        run(
            [*compose, "up", "--detach", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT)],
            cwd=project,
            timeout=UP_TIMEOUT,
        )
        assert "Dev Library" in wait_for_page(f"http://127.0.0.1:{port}/", "Dev Library")

        tests = run(
            [*compose, "run", "--rm", "--no-deps", "web", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=project,
            timeout=UP_TIMEOUT,
        )
        assert " passed" in tests.stdout.splitlines()[-1]
        assert "failed" not in tests.stdout.splitlines()[-1]

        settings = project / "config" / "settings" / "base.py"
        settings.write_text(settings.read_text().replace('"Dev Library"', '"Reloaded Library"'))
        assert "Reloaded Library" in wait_for_page(f"http://127.0.0.1:{port}/", "Reloaded Library")
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
    project = bake(tmp_path, **combo.context)
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
