"""Baked projects run for real: installed from their lock, tested against their database.

Each variant is installed from its own poetry.lock into a cached virtual
environment; then its own test suite, the migrations check, ``migrate`` and
the deploy checks run against SQLite or the machine's real PostgreSQL or
MariaDB server. Each bake gets a database of its own, dropped afterwards.
Server variants skip where the server is unreachable, and fail instead when
the CI environment variable is set.
"""

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

from tests.support import (
    SUPPORTED,
    Combination,
    bake,
    combination_params,
    record_stat,
    tasks,
)
from tests.support.databases import SUMMARY, Baked, baked_env, own_database, server_for

# Every database x layout x authentication, on the interpreter that runs this suite.
# The mysql choice on both servers it supports: MariaDB (the machine's) and MySQL itself.
ON_MYSQL = {("split", "token"), ("single", "jwt")}
VARIANTS = tuple(
    Combination(
        combo.database,
        combo.app_layout,
        api_auth=combo.api_auth,
        server="mysql-9.7"
        if combo.database == "mysql" and (combo.app_layout, combo.api_auth) in ON_MYSQL
        else "",
    )
    for combo in SUPPORTED
)
COVERAGE_TOTAL = re.compile(r"^TOTAL\s.*?(\d+)%$", re.MULTILINE)
CONTRACT_CASES = re.compile(r"^\s+- (\d+) passing, 0 failing", re.MULTILINE)

pytestmark = pytest.mark.slow


@pytest.fixture(params=combination_params(VARIANTS))
def baked(request: pytest.FixtureRequest, cookies: Cookies, tools_venv: Path) -> Iterator[Baked]:
    """A bake of the variant, installed, with a fresh database of its own on its server."""
    combo: Combination = request.param
    server = server_for(combo)
    project = bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = baked_env()
    with own_database(python, server, env):
        yield Baked(combo, project, python, env)


def test_baked_make_test_passes(baked: Baked) -> None:
    """`make test-full` or `make test`: every test passes on the variant's database, none skipped,
    coverage >= 90%, and the contract tests send their budget of requests.

    The full budget runs once per database server and authentication (the layout moves
    modules, not the API); the other layout of each runs `make test`, whose contract tests
    send the everyday budget."""
    combo = baked.combo
    full = combo.database == "mysql" or combo.app_layout == "split"
    started = time.monotonic()
    # The full budget is chosen by the target, and the small one is named here so that a
    # target that did not choose it would fail, whether or not CI is set.
    result = baked.make(
        "test-full" if full else "test",
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
    # The everyday budget sends about 100 requests, the full one about 500.
    assert cases > (300 if full else 50), f"the contract tests sent too few requests: {cases}"
    record_stat(
        baked.combo.id,
        {
            "baked tests passed": counts["passed"],
            "coverage %": int(coverage.group(1)),
            "schemathesis cases": cases,
            "target": "test-full" if full else "test",
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


SERVER_VARIANTS = tuple(
    combo for combo in VARIANTS if combo.database != "sqlite" and not combo.server
)


@pytest.mark.parametrize(
    "combo",
    [
        pytest.param(combo, id=combo.id)
        for combo in SERVER_VARIANTS
        if combo.app_layout == "split" and combo.api_auth == "token"
    ],
)
def test_server_variant_never_falls_back_to_sqlite(
    combo: Combination, cookies: Cookies, tools_venv: Path
) -> None:
    """Without its server, a fresh bake's pytest and runserver stop at once in one line naming
    `make db`; without DATABASE_URL they refuse to start instead of using a SQLite file."""
    project = bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = {**baked_env(), "DB_PORT": "1"}  # the baked .env's URL, on a port nobody serves

    def run(*args: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), *args],
            cwd=project,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    tests = run("-m", "pytest", "-p", "no:cacheprovider", environment=env)
    server = run("manage.py", "runserver", "127.0.0.1:1", environment=env)

    problem = "Cannot connect to the database app at 127.0.0.1:1 ("
    assert tests.returncode == pytest.ExitCode.USAGE_ERROR, tests.stdout[-2000:]
    assert problem in tests.stdout, tests.stdout[-2000:]
    assert "Start it with `make db`" in tests.stdout
    assert "passed" not in tests.stdout
    assert server.returncode == 1, server.stderr
    assert server.stderr.strip().startswith("CommandError: "), server.stderr
    assert len(server.stderr.strip().splitlines()) == 1, server.stderr
    assert problem in server.stderr
    assert not (project / "db.sqlite3").exists()

    env_file = project / ".env"
    env_file.write_text(
        "".join(
            line
            for line in env_file.read_text().splitlines(keepends=True)
            if not line.startswith("DATABASE_URL=")
        )
    )
    unset = run("manage.py", "check", environment=env)
    assert unset.returncode == 1
    assert "ImproperlyConfigured: DATABASE_URL is not set." in unset.stderr
    assert "`make db`" in unset.stderr
    assert not (project / "db.sqlite3").exists()
