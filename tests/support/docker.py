"""Baked projects run with Docker Compose: the compose files as shipped, on free ports.

Each stack runs the bake's own compose files, with WEB_PORT and DB_PORT (which
those files publish) set to ports of its own, so that stacks run side by side.

Engines without bridge networks (this project's CI machines) set
DJANGO_DRF_DOCKER_HOST_NETWORK=1 (``.ci/run`` does): each stack then gets a
test-only override on top that puts every service on the host network, on
those same ports (and metrics ports of its own), and the engine's stand-in
Python images are patched once. Without the variable nothing is added to
what users run.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import tasks
from tests.support import IN_CI, Combination

# Every database with the default layout, the other layout once, each Python once.
DOCKER_VARIANTS = (
    Combination("postgresql", "split", "3.13"),
    Combination("mysql", "split", "3.13"),
    Combination("sqlite", "split", "3.12"),
    Combination("postgresql", "single", "3.14", api_auth="jwt"),
)
# The development stack (compose.override.yml) on one database per layout.
DEV_VARIANTS = (Combination("sqlite", "split"), Combination("mysql", "single"))

HOST_NETWORK_ENV = "DJANGO_DRF_DOCKER_HOST_NETWORK"
HOST_NETWORK = os.environ.get(HOST_NETWORK_ENV) == "1"
# The same machines' package index serves HTML simple pages only; .ci/run puts
# this fallback on PYTHONPATH, and host-network runs add it to the stand-ins.
INDEX_SHIM = tasks.ROOT / ".ci" / "pypi-compat"
# Ports per stack, clear of the machine's own 5432/3306/6379/8000.
WEB_PORT_BASE, PG_PORT_BASE, MYSQL_PORT_BASE = 18100, 15500, 13400
# On the host network, each stack's cache listens at this base plus its web
# port's offset (on a bridge network every cache has its own 6379).
CACHE_PORT_BASE = 16400
# Likewise web's metrics (gunicorn's master) and the worker's: in containers
# of their own, both serve DJANGO_METRICS_PORT's default, 8001.
WEB_METRICS_PORT_BASE, WORKER_METRICS_PORT_BASE = 17100, 17300
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


def require_docker() -> None:
    """Skip without an engine (fail under CI); on host-network machines, patch the engine's
    stand-in Python images once (as test_docker.py's docker_engine fixture does)."""
    reason = docker_unavailable()
    if reason is not None:
        message = f"no Docker engine: {reason}"
        if IN_CI:
            pytest.fail(f"{message}; CI must run the docker tests")
        pytest.skip(message)
    patch_python_standins()


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command; assert it succeeds, showing its output when it does not."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


def docker_run_network() -> list[str]:
    """`docker run`'s network options: the engine's default, or the host network."""
    return ["--network", "host"] if HOST_NETWORK else []


# The image's HEALTHCHECK checks every 30 s, and every second while the
# container starts (--start-interval, Docker 25, API 1.44). Older engines
# refuse to parse that flag; on them the tests build a copy without it that
# checks every second instead, as the start interval would while starting.
# The worker's healthcheck in docker-compose.yml has Compose's start_interval,
# which Compose refuses to send to those engines: there the tests check every
# 2 s instead (each check starts Django, about half a second of CPU).
START_INTERVAL_API = (1, 44)
SHIPPED_HEALTHCHECK = "--interval=30s --timeout=3s --start-period=30s --start-interval=1s"
OLD_ENGINE_HEALTHCHECK = "--interval=1s --timeout=3s --start-period=30s"
SHIPPED_WORKER_HEALTHCHECK = (
    "      interval: 30s\n      timeout: 10s\n      retries: 3\n"
    "      start_period: 30s\n      start_interval: 1s\n"
)
OLD_ENGINE_WORKER_HEALTHCHECK = (
    "      interval: 2s\n      timeout: 10s\n      retries: 3\n      start_period: 30s\n"
)


def engine_api_version() -> tuple[int, ...]:
    result = run(["docker", "version", "--format", "{{.Server.APIVersion}}"])
    return tuple(int(part) for part in result.stdout.strip().split("."))


def buildable_here(project: Path) -> Path:
    """The bake, its Dockerfile and compose file made usable by this engine (see
    START_INTERVAL_API)."""
    if engine_api_version() < START_INTERVAL_API:
        for name, shipped, old_engine in (
            ("Dockerfile", SHIPPED_HEALTHCHECK, OLD_ENGINE_HEALTHCHECK),
            ("docker-compose.yml", SHIPPED_WORKER_HEALTHCHECK, OLD_ENGINE_WORKER_HEALTHCHECK),
        ):
            path = project / name
            text = path.read_text()
            assert shipped in text, f"{name}: no {shipped!r}"
            path.write_text(text.replace(shipped, old_engine))
    return project


def compose_command(name: str, *files: str | Path) -> list[str]:
    """`docker compose` for project ``name``: docker-compose.yml, then ``files`` on top."""
    paths = ("docker-compose.yml", *map(str, files))
    return ["docker", "compose", "-p", name, *(arg for path in paths for arg in ("-f", path))]


def set_env_values(project: Path, values: dict[str, str]) -> None:
    """Set variables in the bake's .env, as a user configures a deployment."""
    env_file = project / ".env"
    lines = [
        line for line in env_file.read_text().splitlines() if line.split("=", 1)[0] not in values
    ]
    env_file.write_text("\n".join([*lines, *(f"{k}={v}" for k, v in values.items())]) + "\n")


def env_value(project: Path, name: str) -> str:
    """A variable from the bake's .env (written by the post-generation hook)."""
    for line in (project / ".env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    raise KeyError(name)


@dataclass
class Compose:
    """One test stack: a bake's compose files (docker-compose.yml, then ``files``) as a
    project of its own, publishing web on ``web_port`` and the database on ``db_port``."""

    combo: Combination
    project: Path
    web_port: int
    db_port: int = 0
    files: tuple[str, ...] = ()
    name: str = field(default_factory=lambda: f"ddd-{uuid.uuid4().hex[:8]}")
    # More variables for compose's interpolation, e.g. WEB_REPLICAS.
    variables: dict[str, str] = field(default_factory=dict)
    # Host-network machines only: the test-only override, last on the command line.
    override: Path | None = None

    @property
    def command(self) -> list[str]:
        extra = (*self.files, *([self.override] if self.override else []))
        return compose_command(self.name, *extra)

    @property
    def env(self) -> dict[str, str]:
        ports = {"WEB_PORT": str(self.web_port), "DB_PORT": str(self.db_port)}
        return {**os.environ, **ports, **self.variables}

    def __call__(
        self, *args: str, timeout: float = UP_TIMEOUT, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `docker compose ...` on the stack; assert it succeeds."""
        return run(
            [*self.command, *args], cwd=self.project, env={**self.env, **(env or {})},
            timeout=timeout,
        )  # fmt: skip

    def up_built(self) -> None:
        """`up` with a fresh build, returning once every service is healthy."""
        self(
            "up", "--detach", "--build", "--wait", "--wait-timeout", str(UP_TIMEOUT),
            timeout=UP_TIMEOUT + 300,
        )  # fmt: skip

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    @property
    def image(self) -> str:
        return f"{self.name}-web"

    def down(self) -> None:
        """Remove the stack with its volumes and images; a cleanup, so failures are ignored."""
        subprocess.run(
            [*self.command, "down", "-v", "--rmi", "local", "--timeout", "5"],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            check=False,
            timeout=120,
        )


def compose_stack(
    combo: Combination,
    project: Path,
    web_port: int,
    db_port: int = 0,
    *files: str,
    name_prefix: str = "ddd",
    host_services: Callable[[dict[str, Any]], None] | None = None,
) -> Compose:
    """A Compose for the bake; on host-network machines with its override written, which
    ``host_services`` may adjust (the services of the override, changed in place)."""
    compose = Compose(
        combo, project, web_port, db_port, files, name=f"{name_prefix}-{uuid.uuid4().hex[:8]}"
    )
    if HOST_NETWORK:
        services = host_network_services(combo, project, web_port, db_port, files)
        if host_services is not None:
            host_services(services)
        compose.override = project.parent / f"{compose.name}.host-network.yml"
        # JSON is YAML: no YAML library needed to write it.
        compose.override.write_text(json.dumps({"services": services}, indent=2))
    return compose


def metrics_ports(web_port: int) -> dict[str, int]:
    """Host-network stacks: the port each service serves its metrics on, by service."""
    offset = web_port - WEB_PORT_BASE
    return {"web": WEB_METRICS_PORT_BASE + offset, "worker": WORKER_METRICS_PORT_BASE + offset}


def host_network_services(
    combo: Combination, project: Path, web_port: int, db_port: int, files: tuple[str, ...]
) -> dict[str, Any]:
    """The override's services: every one on the host network, on the stack's ports, with
    the service names db and cache resolved to the host."""
    cache_port = CACHE_PORT_BASE + web_port - WEB_PORT_BASE
    development = "compose.override.yml" in files
    app: dict[str, Any] = {
        "network_mode": "host",
        "build": {"network": "host"},
        "extra_hosts": ["db:127.0.0.1", "cache:127.0.0.1"],
        "environment": {"REDIS_URL": f"redis://cache:{cache_port}/0"},
    }
    services: dict[str, Any] = {
        name: json.loads(json.dumps(app)) for name in ("migrate", "web", "worker")
    }
    services["cache"] = {
        "network_mode": "host",
        "command": ["--port", str(cache_port), "--save", "", "--appendonly", "no"],
        "healthcheck": {"test": ["CMD", "redis-cli", "-p", str(cache_port), "ping"]},
    }
    # The development override connects MySQL's tests as root (they create a database).
    user, password = ("root", "DB_ROOT_PASSWORD") if development else ("app", "DB_PASSWORD")
    if combo.database == "postgresql":
        url = f"postgres://app:{env_value(project, 'DB_PASSWORD')}@db:{db_port}/app"
        services["db"] = {"network_mode": "host", "environment": {"PGPORT": str(db_port)}}
    elif combo.database == "mysql":
        url = f"mysql://{user}:{env_value(project, password)}@db:{db_port}/app"
        # The shipped healthcheck, on the stack's port.
        services["db"] = {
            "network_mode": "host",
            "command": [f"--port={db_port}", "--mysqlx=OFF"],
            "healthcheck": {
                "test": [
                    "CMD", "mysqladmin", "ping", "--protocol=tcp", "-h", "127.0.0.1",
                    f"--port={db_port}", "--silent",
                ]
            },
        }  # fmt: skip
    else:
        url = "sqlite:////data/db.sqlite3"
    for service in ("migrate", "web", "worker"):
        services[service]["environment"]["DATABASE_URL"] = url
    services["web"]["environment"]["PORT"] = str(web_port)
    for service, port in metrics_ports(web_port).items():
        services[service]["environment"]["DJANGO_METRICS_PORT"] = str(port)
    if development:
        services["web"]["command"] = ["python", "manage.py", "runserver", f"0.0.0.0:{web_port}"]
    if "compose.observability.yml" in files:
        services["prometheus"] = prometheus_standin(project, web_port)
    return services


# Prometheus beside the stack (compose.observability.yml).
#
# As shipped, prom/prometheus publishes 127.0.0.1:9090 and finds the web and
# worker containers through Docker's DNS (deploy/prometheus.yml). The CI
# machines have no such image, and on the host network the service names do
# not resolve: there a stand-in Python image runs this host's Prometheus
# binary (Debian's prometheus package) on a port of the stack's own, with
# the shipped deploy/prometheus.yml whose DNS look-ups are replaced by the
# addresses of the stack's web and worker metrics on this host; every other
# line of it is used as it is.
PROMETHEUS_PORT = 9090
PROMETHEUS_PORT_BASE = 19100
PROMETHEUS_STANDIN = "python:3.13-slim"
# What deploy/prometheus.yml scrapes, in the containers' own network.
SHIPPED_METRICS_PORT = 8001


def prometheus_unavailable() -> str | None:
    """Why the stack's Prometheus cannot run here, or None: host-network machines need the
    host's binary for the stand-in; elsewhere the engine pulls prom/prometheus."""
    if HOST_NETWORK and shutil.which("prometheus") is None:
        return "the prometheus binary is not installed (Debian: apt-get install prometheus)"
    return None


def prometheus_url(compose: Compose, path: str) -> str:
    """A URL of the stack's Prometheus: on its shipped port, or on the stand-in's."""
    offset = compose.web_port - WEB_PORT_BASE
    port = PROMETHEUS_PORT_BASE + offset if HOST_NETWORK else PROMETHEUS_PORT
    return f"http://127.0.0.1:{port}{path}"


def prometheus_conf_for_host_network(shipped: str, targets: dict[str, int]) -> str:
    """The shipped prometheus.yml with each job's DNS look-up of its service (``job_name``,
    port 8001) replaced by that service's address on this host, ``targets[job_name]``."""
    config = yaml.safe_load(shipped)
    jobs = config["scrape_configs"]
    assert sorted(job["job_name"] for job in jobs) == sorted(targets), jobs
    for job in jobs:
        [lookup] = job.pop("dns_sd_configs")
        assert (lookup["names"], lookup["port"]) == ([job["job_name"]], SHIPPED_METRICS_PORT)
        job["static_configs"] = [{"targets": [f"127.0.0.1:{targets[job['job_name']]}"]}]
    # JSON is YAML: no YAML writer needed.
    return json.dumps(config, indent=2)


def prometheus_standin(project: Path, web_port: int) -> dict[str, Any]:
    """The override's prometheus service: the host's binary in a stand-in image, on the
    host network, scraping the stack's metrics ports."""
    binary = shutil.which("prometheus")
    assert binary is not None, prometheus_unavailable()
    port = PROMETHEUS_PORT_BASE + web_port - WEB_PORT_BASE
    conf = project.parent / "prometheus-host-network.yml"
    shipped = (project / "deploy" / "prometheus.yml").read_text()
    conf.write_text(prometheus_conf_for_host_network(shipped, metrics_ports(web_port)))
    ready = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/-/ready')"
    return {
        "image": PROMETHEUS_STANDIN,
        "network_mode": "host",
        "entrypoint": ["/usr/bin/prometheus"],
        "command": [
            "--config.file=/etc/prometheus/prometheus.yml",
            "--storage.tsdb.path=/prometheus",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        "volumes": [
            f"{Path(binary).resolve()}:/usr/bin/prometheus:ro",
            f"{conf}:/etc/prometheus/prometheus.yml:ro",
        ],
        # The stand-in has Python, not the official image's wget.
        "healthcheck": {"test": ["CMD", "python", "-c", ready]},
    }


def patch_python_standins() -> None:
    """Host-network machines only: make the engine's stand-in Python images behave like the
    official ones the Dockerfile builds on (see the two functions below)."""
    if not HOST_NETWORK:
        return
    fix_python_standin_permissions("python:3.12-slim")
    for tag in PYTHON_STANDINS:
        add_index_html_fallback(tag)


def fix_python_standin_permissions(tag: str) -> None:
    """Let non-root users run the interpreter of a stand-in image.

    The CI machines' python:3.12-slim stand-in is built from pyenv's CPython,
    left under /root (mode 700), so the image's non-root user cannot start
    Python; the official image keeps it in /usr/local. Rebuild the tag with
    /root traversable, once. The template's Dockerfile is unchanged.
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


# The CI machines' stand-ins for the official Python images.
PYTHON_STANDINS = ("python:3.12-slim", "python:3.13-slim", "python:3.14-slim")


def add_index_html_fallback(tag: str) -> None:
    """Let Poetry in a stand-in image read a package index that serves HTML pages only.

    The stand-ins carry the CI machines' index shim in their sitecustomize;
    where the index serves its simple pages as HTML only, Poetry still fails
    there. Append .ci/pypi-compat's fallback to that module, once per tag.
    The template's Dockerfile is unchanged.
    """
    marker = "_HtmlFallbackFinder"
    probe = ["docker", "run", "--rm", "--network", "host", tag, "python", "-c"]
    check = f"import sitecustomize, sys; sys.exit(not hasattr(sitecustomize, {marker!r}))"
    if subprocess.run([*probe, check], capture_output=True, check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(INDEX_SHIM / "sitecustomize.py", Path(context) / "fallback.py")
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


def http(
    method: str,
    url: str,
    data: dict[str, str] | None = None,
    authorization: str = "",
    request_id: str = "",
) -> tuple[int, Any]:
    """One JSON request: the status and the decoded body."""
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


def upload(
    url: str, field: str, name: str, content: bytes, authorization: str
) -> tuple[int, str, Any]:
    """One multipart/form-data POST of a file, as a browser's form sends it: the status,
    the Location header (or "") and the decoded body."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        (
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'.encode(),
            b"Content-Type: application/octet-stream\r\n\r\n",
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            location = response.headers.get("Location", "")
            return response.status, location, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, "", json.loads(error.read() or b"null")


# Several web replicas behind nginx (compose.replicas.yml).
#
# As shipped, the proxy publishes WEB_PORT and finds the replicas through
# Docker's DNS. On the host network the replicas share one port (gunicorn's
# --reuse-port) and nginx gets the shipped deploy/nginx.conf with its
# `listen` port and one `server` line per replica rewritten to that address,
# as Docker's DNS would answer one address per replica; every other line of
# the shipped configuration is used as it is.
REPLICAS = 3


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
    project: Path, offset: int, web_env: dict[str, str], replicas: int = REPLICAS
) -> Iterator[Compose]:
    """A PostgreSQL bake up and healthy with compose.replicas.yml: ``replicas`` web replicas
    with ``web_env`` added to the bake's .env; the Compose's URL is the proxy's."""
    combo = Combination("postgresql", "split")
    buildable_here(project)
    set_env_values(project, web_env)
    proxy_port, db_port = WEB_PORT_BASE + offset, PG_PORT_BASE + offset

    def behind_the_proxy(services: dict[str, Any]) -> None:
        # The replicas share the port after the proxy's.
        replicas_port = proxy_port + 1
        arguments = f"--reuse-port {web_env.get('GUNICORN_CMD_ARGS', '')}".strip()
        services["web"]["environment"].update(
            {"PORT": str(replicas_port), "GUNICORN_CMD_ARGS": arguments}
        )
        conf = project.parent / "nginx-host-network.conf"
        shipped = (project / "deploy" / "nginx.conf").read_text()
        conf.write_text(nginx_conf_for_host_network(shipped, proxy_port, replicas_port, replicas))
        services["proxy"] = {
            "network_mode": "host",
            "volumes": [f"{conf}:/etc/nginx/conf.d/default.conf:ro"],
        }

    compose = compose_stack(
        combo,
        project,
        proxy_port,
        db_port,
        "compose.replicas.yml",
        name_prefix="ddd-replicas",
        host_services=behind_the_proxy,
    )
    compose.variables["WEB_REPLICAS"] = str(replicas)
    try:
        compose("config", "-q")
        compose.up_built()
        yield compose
    finally:
        compose.down()
