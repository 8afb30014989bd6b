"""The machine's database servers for baked projects: a fresh database per bake."""

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import tasks
from tests.support import IN_CI, Combination, docker, make, require_server


@dataclass(frozen=True)
class Server:
    """A database server the baked projects' tests use."""

    name: str
    host: str
    port: int
    user: str
    password: str = ""
    # Started in Docker by the tests (see mysql_in_docker) rather than found running.
    image: str = ""


PG = Server(
    "PostgreSQL",
    "127.0.0.1",
    int(os.environ.get("TEST_PG_PORT", "5432")),
    os.environ.get("TEST_PG_USER", "postgres"),
)
MARIADB = Server(
    "MariaDB",
    "127.0.0.1",
    int(os.environ.get("TEST_MYSQL_PORT", "3306")),
    os.environ.get("TEST_MYSQL_USER", "root"),
)
# The `mysql` choice on MySQL itself: the LTS release, in Docker, with a password
# user, so that the driver authenticates with MySQL's default caching_sha2_password.
# Each test run starts its own, with a name and port of its own (conftest.py sets
# them for the run's workers), so that two runs on one machine leave each other's alone.
MYSQL_CONTAINER_ENV, MYSQL_PORT_ENV = "DDD_TESTS_MYSQL_CONTAINER", "DDD_TESTS_MYSQL_PORT"


def mysql_server() -> Server:
    return Server(
        "MySQL 9.7",
        "127.0.0.1",
        int(os.environ.get(MYSQL_PORT_ENV, "13307")),
        "tests",
        "tests-Password-1",
        image="mysql:9.7",
    )


def mysql_container() -> str:
    return os.environ.get(MYSQL_CONTAINER_ENV, "ddd-tests-mysql")


# By Combination.server, or else by its database.
SERVERS = {"postgresql": PG, "mysql": MARIADB, "mariadb": MARIADB}


def server_for(combo: Combination) -> Server | None:
    """The server ``combo`` runs on (None for SQLite), up: started in Docker when it is
    the tests' own; skipped with the reason, or failed under CI, when it cannot be had."""
    key = combo.server or combo.database
    server = mysql_server() if key == "mysql-9.7" else SERVERS.get(key)
    if server is None:
        return None
    if server.image:
        mysql_in_docker(server)
    require_server(server.name, server.host, server.port)
    return server


def mysql_in_docker(server: Server) -> None:
    """Start ``server`` from its image once for the whole run (test workers share it; the
    session's end removes it, see conftest.py) and wait until it takes connections; started
    again if it is gone meanwhile."""
    reason = docker.docker_unavailable()
    if reason is not None:
        message = f"{server.name} runs in Docker here, and {reason}"
        if IN_CI:
            pytest.fail(f"{message}; CI must run this test")
        pytest.skip(message)
    container = mysql_container()
    with tasks.locked(tasks.CACHE_DIR / f"{container}.lock"):
        running = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Running}}", container],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if running != "true":
            remove_mysql_container()
            if docker.HOST_NETWORK:
                network = ["--network", "host"]
                port = [f"--port={server.port}", "--mysqlx=OFF"]
            else:
                network = ["--publish", f"{server.host}:{server.port}:3306"]
                port = []
            docker.run(
                [
                    "docker", "run", "--detach", "--name", container, *network,
                    "--env", "MYSQL_ROOT_PASSWORD=" + server.password,
                    "--env", f"MYSQL_USER={server.user}",
                    "--env", f"MYSQL_PASSWORD={server.password}",
                    server.image, *port,
                ]
            )  # fmt: skip
        grant = f"GRANT ALL ON *.* TO `{server.user}`@`%`"
        deadline = time.monotonic() + 120
        while True:
            granted = subprocess.run(
                [
                    "docker", "exec", container, "mysql", "--protocol=TCP",
                    "-h", "127.0.0.1", "-P", str(server.port if docker.HOST_NETWORK else 3306),
                    "-uroot", f"-p{server.password}", "-e", grant,
                ],
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
            if granted.returncode == 0:
                return
            if time.monotonic() > deadline:
                logs = subprocess.run(
                    ["docker", "logs", "--tail", "30", container],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                pytest.fail(
                    f"{server.name} did not take connections in 120 s: {granted.stderr}\n"
                    f"{logs.stdout}{logs.stderr}"
                )
            time.sleep(1)


def remove_mysql_container() -> None:
    """Remove the tests' MySQL server, if they started one."""
    if shutil.which("docker"):
        subprocess.run(["docker", "rm", "-f", mysql_container()], capture_output=True, check=False)


# The counts in pytest's last line, e.g. "120 passed, 1 skipped in 14.1s".
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


@dataclass
class Baked:
    """A bake, the python of its installed environment, and the environment to run it in."""

    combo: Combination
    project: Path
    python: Path
    env: dict[str, str]

    def make(self, *targets: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the project's Makefile targets, with Poetry using the installed environment."""
        return make(self.project, self.python, *targets, env=self.env, **env)

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the project's Python with ``args``; assert it succeeds."""
        result = subprocess.run(
            [str(self.python), *args],
            cwd=self.project,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
        return result


def admin_sql(python: Path, server: Server, statement: str) -> None:
    """Run one administrative statement through the baked project's own driver."""
    if server is PG:
        code = (
            "import psycopg, sys\n"
            f"with psycopg.connect(host={PG.host!r}, port={PG.port}, user={PG.user!r},"
            " dbname='postgres', autocommit=True) as conn:\n"
            "    conn.execute(sys.argv[1])\n"
        )
    else:
        code = (
            "import MySQLdb, sys\n"
            f"conn = MySQLdb.connect(host={server.host!r}, port={server.port},"
            f" user={server.user!r}, passwd={server.password!r})\n"
            "conn.cursor().execute(sys.argv[1])\n"
            "conn.close()\n"
        )
    result = subprocess.run([str(python), "-c", code, statement], capture_output=True, text=True)
    assert result.returncode == 0, f"{statement} on {server.name}: {result.stderr[-2000:]}"


def database_url(server: Server, name: str) -> str:
    scheme = "postgres" if server is PG else "mysql"
    password = f":{server.password}" if server.password else ""
    return f"{scheme}://{server.user}{password}@{server.host}:{server.port}/{name}"


def quoted_name(server: Server, name: str) -> str:
    return f'"{name}"' if server is PG else f"`{name}`"


def baked_env() -> dict[str, str]:
    """This process's environment without what would steer a baked project elsewhere."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }


@contextmanager
def own_database(python: Path, server: Server | None, env: dict[str, str]) -> Iterator[None]:
    """A fresh, uniquely named database on ``server``, named in env's DATABASE_URL.

    It is dropped afterwards, with the test database Django made beside it.
    SQLite (no server) needs nothing: the project uses its own file.
    """
    if server is None:
        yield
        return
    name = f"bake_{uuid.uuid4().hex[:12]}"
    admin_sql(python, server, f"CREATE DATABASE {quoted_name(server, name)}")
    env["DATABASE_URL"] = database_url(server, name)
    try:
        yield
    finally:
        for db in (name, f"test_{name}"):
            admin_sql(python, server, f"DROP DATABASE IF EXISTS {quoted_name(server, db)}")
