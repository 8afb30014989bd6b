"""`make app` in a bake: a new API resource that passes the project's own checks.

For each layout, a bake on a real database server refuses bad names (one
error, nothing written), then `make app name=loans` adds a resource; the
project's lint, type check and whole suite (its contract tests now covering
the new endpoints, and the new task's test running it through the worker)
must pass on that server.
"""

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import (
    Combination,
    bake,
    combination_params,
    project_env,
    record_stat,
)
from tests.support.databases import SUMMARY, Baked, baked_env, own_database, server_for

pytestmark = pytest.mark.slow

# One bake per layout, each on a database server, both authentications.
VARIANTS = (
    Combination("postgresql", "split"),
    Combination("mysql", "single", api_auth="jwt"),
)
# Names `make app` must refuse, and what its one line of error says.
BAD_NAMES = {
    "Loans": '"Loans" is not a valid app name',
    "loan-items": '"loan-items" is not a valid app name',
    "class": '"class" is a Python keyword',
    "books": '"books" is already the label of an installed app',
    "admin": '"admin" is already the label of an installed app',
    "tests": '"tests" already exists',
    "json": '"json" is the name of an importable Python module',
}
OPERATIONS = re.compile(r"\[(GET|POST|PUT|PATCH|DELETE) /api/v1/loans/")


@pytest.fixture(params=combination_params(VARIANTS))
def baked(request: pytest.FixtureRequest, cookies: Cookies, tools_venv: Path) -> Iterator[Baked]:
    """A bake of the variant under git, installed, with a database of its own."""
    combo: Combination = request.param
    server = server_for(combo)
    project = bake(cookies, **combo.context)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "bake")
    env = baked_env()
    with own_database(python, server, env):
        yield Baked(combo, project, python, env)


def git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=project, check=True, capture_output=True, text=True
    ).stdout


def make_app(baked: Baked, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`make app ...`, which may fail: its result, unchecked."""
    return subprocess.run(
        ["make", "app", *arguments, f"POETRY={tasks.bin_path(tasks.TOOLS_VENV, 'poetry')}"],
        cwd=baked.project,
        env=project_env(baked.python, baked.env),
        capture_output=True,
        text=True,
        check=False,
    )


def test_make_app_adds_a_resource_that_passes_the_projects_checks(baked: Baked) -> None:
    """Bad names change nothing; `make app name=loans` adds a resource that passes every check."""
    missing = make_app(baked)
    assert missing.returncode != 0
    assert "ERROR: name is missing. Run make app name=<app>" in missing.stderr
    for name, message in BAD_NAMES.items():
        refused = make_app(baked, f"name={name}")
        assert refused.returncode != 0, name
        assert message in refused.stderr, refused.stderr
        assert git(baked.project, "status", "--porcelain") == "", name

    made = make_app(baked, "name=loans")
    assert made.returncode == 0, made.stdout + made.stderr

    api = "api/loans/" if baked.combo.app_layout == "split" else "loans/api/"
    changes = set(git(baked.project, "status", "--porcelain", "--untracked-files=all").splitlines())
    assert {
        "?? loans/migrations/0001_initial.py",
        "?? loans/models.py",
        "?? loans/tasks.py",
        f"?? {api}views.py",
        "?? tests/test_loans_api.py",
        "?? tests/test_loans_tasks.py",
        " M config/settings/base.py",
        " M tests/factories.py",
    } <= changes
    schema = baked.run("manage.py", "spectacular", "--validate", "--fail-on-warn").stdout
    assert "/api/v1/loans/:" in schema
    assert "/api/v1/loans/{id}/:" in schema
    collected = baked.run("-m", "pytest", "--collect-only", "-p", "no:cacheprovider").stdout
    # Six operations, each contract test run anonymously and as staff.
    assert len(OPERATIONS.findall(collected)) == 12

    result = baked.make("lint", "typecheck", "test", PYTEST_ADDOPTS="-p no:cacheprovider -rA")

    assert "Success: no issues found" in result.stdout
    summary = next(line for line in reversed(result.stdout.splitlines()) if " in " in line)
    counts = {kind.rstrip("s"): int(n) for n, kind in SUMMARY.findall(summary)}
    assert set(counts) == {"passed"}, result.stdout[-3000:]
    new_tests = re.findall(r"^PASSED tests/test_loans_api\.py::", result.stdout, re.MULTILINE)
    assert len(new_tests) >= 10
    # The example task, queued and run by `manage.py worker --batch`, on the server.
    assert (
        "PASSED tests/test_loans_tasks.py::"
        "test_delete_loans_runs_in_the_worker_and_is_safe_to_run_twice" in result.stdout
    )
    assert "Required test coverage of 90.0% reached" in result.stdout
    record_stat(
        f"make-app-{baked.combo.id}",
        {"tests passed after make app": counts["passed"], "new resource tests": len(new_tests)},
    )
