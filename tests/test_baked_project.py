"""Baked projects run for real: installed from their lock, tested against their database.

Each variant is installed from its own poetry.lock into a cached virtual
environment; then its own test suite, the migrations check, ``migrate`` and
the deploy checks run against SQLite or the machine's real PostgreSQL or
MariaDB server. Each bake gets a database of its own, dropped afterwards.
Server variants skip where the server is unreachable, and fail instead when
the CI environment variable is set.
"""

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import (
    SUPPORTED,
    Combination,
    bake,
    combination_params,
    make,
    record_stat,
    require_server,
    tasks,
)

# The baked projects' databases: tasks.py makes them (the benchmarks use them too).
MYSQL, PG, own_database = tasks.MYSQL, tasks.PG, tasks.own_database

SERVER_NAMES = {"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL"}

# Every database x layout x authentication, on the interpreter that runs this suite.
VARIANTS = tuple(
    Combination(combo.database, combo.app_layout, api_auth=combo.api_auth) for combo in SUPPORTED
)
COVERAGE_TOTAL = re.compile(r"^TOTAL\s.*?(\d+)%$", re.MULTILINE)
CONTRACT_CASES = re.compile(r"^\s+- (\d+) passing, 0 failing", re.MULTILINE)
SUMMARY = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")

pytestmark = pytest.mark.slow


@dataclass
class Baked:
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


def baked_env() -> dict[str, str]:
    """This process's environment without what would steer a baked project elsewhere."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }


@pytest.fixture(params=combination_params(VARIANTS))
def baked(request: pytest.FixtureRequest, tmp_path: Path, tools_venv: Path) -> Iterator[Baked]:
    """A bake of the variant, installed, with a fresh database of its own on its server."""
    combo: Combination = request.param
    server = {"postgresql": PG, "mysql": MYSQL}.get(combo.database)
    if server is not None:
        require_server(SERVER_NAMES[combo.database], server["host"], server["port"])
    project = bake(tmp_path, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = baked_env()
    with own_database(python, combo.database, env):
        yield Baked(combo, project, python, env)


def test_baked_make_test_passes(baked: Baked) -> None:
    """`make test-full`: every test passes on the variant's database, none skipped, coverage
    >= 90%, and the contract tests send their full budget of requests."""
    started = time.monotonic()
    # The full budget is chosen by the target, and the small one is named here so that a
    # target that did not choose it would fail, whether or not CI is set.
    result = baked.make(
        "test-full",
        PYTEST_ADDOPTS="-p no:cacheprovider --no-header --hypothesis-show-statistics",
        HYPOTHESIS_PROFILE="dev",
    )
    seconds = time.monotonic() - started

    summary = next(line for line in reversed(result.stdout.splitlines()) if " in " in line)
    counts = {kind.rstrip("s"): int(n) for n, kind in SUMMARY.findall(summary)}
    assert counts.get("passed", 0) > 100, result.stdout[-2000:]
    assert set(counts) == {"passed"}, result.stdout[-2000:]
    coverage = COVERAGE_TOTAL.search(result.stdout)
    assert coverage is not None, result.stdout[-2000:]
    # schemathesis runs as Hypothesis tests, whose statistics count the requests.
    cases = sum(map(int, CONTRACT_CASES.findall(result.stdout)))
    assert cases > 100, "the contract tests sent too few requests"
    record_stat(
        baked.combo.id,
        {
            "baked tests passed": counts["passed"],
            "coverage %": int(coverage.group(1)),
            "schemathesis cases": cases,
            "seconds": round(seconds, 1),
        },
    )


def test_baked_make_lint_and_typecheck_pass(baked: Baked) -> None:
    """`make lint typecheck`: ruff and mypy (django-stubs, DRF stubs) find nothing."""
    result = baked.make("lint", "typecheck")

    assert "Success: no issues found" in result.stdout


def test_baked_migrations_apply_and_are_complete(baked: Baked) -> None:
    """Models and migrations agree; `make migrate seed` works on the real database."""
    baked.run("manage.py", "makemigrations", "--check", "--dry-run")
    baked.make("migrate")
    shown = baked.run("manage.py", "showmigrations", "--list").stdout
    assert "[X] 0001_initial" in shown
    assert "[ ]" not in shown
    baked.make("seed")
    again = baked.make("seed").stdout
    assert "0 added, 5 already present" in again


def test_baked_production_settings_pass_deploy_checks(baked: Baked) -> None:
    """check --deploy with production settings warns about nothing."""
    result = baked.run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        "--database",
        "default",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=f"deploy-check-{uuid.uuid4().hex}{uuid.uuid4().hex}",
        DJANGO_ALLOWED_HOSTS="api.example.com",
        REDIS_URL="redis://cache:6379/0",
    )
    assert "System check identified no issues" in result.stdout
