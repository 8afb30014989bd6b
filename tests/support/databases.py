"""The machine's database servers for baked projects: a fresh database per bake."""

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import Combination, make

PG = {
    "host": "127.0.0.1",
    "port": int(os.environ.get("TEST_PG_PORT", "5432")),
    "user": os.environ.get("TEST_PG_USER", "postgres"),
}
MYSQL = {
    "host": "127.0.0.1",
    "port": int(os.environ.get("TEST_MYSQL_PORT", "3306")),
    "user": os.environ.get("TEST_MYSQL_USER", "root"),
}
SERVERS = {"postgresql": PG, "mysql": MYSQL}
SERVER_NAMES = {"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}
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


def admin_sql(python: Path, database: str, statement: str) -> None:
    """Run one administrative statement through the baked project's own driver."""
    if database == "postgresql":
        code = (
            "import psycopg, sys\n"
            f"with psycopg.connect(host={PG['host']!r}, port={PG['port']}, user={PG['user']!r},"
            " dbname='postgres', autocommit=True) as conn:\n"
            "    conn.execute(sys.argv[1])\n"
        )
    else:
        code = (
            "import MySQLdb, sys\n"
            f"conn = MySQLdb.connect(host={MYSQL['host']!r}, port={MYSQL['port']},"
            f" user={MYSQL['user']!r}, passwd='')\n"
            "conn.cursor().execute(sys.argv[1])\n"
            "conn.close()\n"
        )
    subprocess.run([str(python), "-c", code, statement], check=True, capture_output=True)


def database_url(database: str, name: str) -> str:
    if database == "postgresql":
        return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    return f"mysql://{MYSQL['user']}@{MYSQL['host']}:{MYSQL['port']}/{name}"


def quoted_name(database: str, name: str) -> str:
    return f'"{name}"' if database == "postgresql" else f"`{name}`"


def baked_env() -> dict[str, str]:
    """This process's environment without what would steer a baked project elsewhere."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }


@contextmanager
def own_database(python: Path, database: str, env: dict[str, str]) -> Iterator[None]:
    """A fresh, uniquely named database on ``database``'s server, named in env's DATABASE_URL.

    It is dropped afterwards, with the test database Django made beside it.
    SQLite needs nothing: the project uses its own file.
    """
    if database == "sqlite":
        yield
        return
    name = f"bake_{uuid.uuid4().hex[:12]}"
    admin_sql(python, database, f"CREATE DATABASE {quoted_name(database, name)}")
    env["DATABASE_URL"] = database_url(database, name)
    try:
        yield
    finally:
        for db in (name, f"test_{name}"):
            admin_sql(python, database, f"DROP DATABASE IF EXISTS {quoted_name(database, db)}")
