"""What the template's tests share: the supported combinations, baking through
pytest-cookies, the baked project's tools, real servers and run figures.

Test modules import from here (and from the modules beside this one), never
from conftest.py or from one another; the benchmarks import from here too.
"""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import tasks

ROOT = tasks.ROOT
IN_CI = bool(os.environ.get("CI"))


@dataclass(frozen=True)
class Combination:
    """One supported set of answers, with a readable test id."""

    database: str
    app_layout: str
    python_version: str = "3.13"
    api_auth: str = "token"
    extra: dict[str, str] = field(default_factory=dict)
    # The server that runs the database, where a choice runs on more than one
    # (tests.support.databases.SERVERS); "" for the database's usual server.
    server: str = ""

    @property
    def id(self) -> str:
        on = f"-on-{self.server}" if self.server else ""
        return f"{self.database}-{self.app_layout}-{self.api_auth}-py{self.python_version}{on}"

    @property
    def context(self) -> dict[str, str]:
        return {
            "database": self.database,
            "app_layout": self.app_layout,
            "api_auth": self.api_auth,
            "python_version": self.python_version,
            **self.extra,
        }


# Every database x layout x authentication, each Python version and each
# licence at least once.
SUPPORTED = (
    Combination("postgresql", "split", extra={"open_source_license": "MIT"}),
    Combination("postgresql", "single", "3.12", extra={"open_source_license": "BSD-3-Clause"}),
    Combination("sqlite", "split", extra={"open_source_license": "Apache-2.0"}),
    Combination("sqlite", "single", "3.14", extra={"open_source_license": "GPL-3.0"}),
    Combination("mysql", "split", extra={"open_source_license": "Not open source"}),
    Combination("mysql", "single"),
    Combination("postgresql", "split", api_auth="jwt"),
    Combination("postgresql", "single", api_auth="jwt"),
    Combination("sqlite", "split", "3.12", api_auth="jwt"),
    Combination("sqlite", "single", api_auth="jwt"),
    Combination("mysql", "split", "3.14", api_auth="jwt"),
    Combination("mysql", "single", api_auth="jwt"),
)


def combination_params(combinations: tuple[Combination, ...] = SUPPORTED, *marks: Any) -> list[Any]:
    return [pytest.param(combo, id=combo.id, marks=marks) for combo in combinations]


def bake(cookies: Any, **context: str) -> Path:
    """Bake this template through pytest-cookies' ``cookies`` (or ``cookies_session``)
    fixture with ``context`` answers; return the project, failing with the reason if
    the bake did not succeed."""
    result = cookies.bake(extra_context=context, template=str(ROOT))
    assert (result.exit_code, result.exception) == (0, None), (
        f"the bake with {context} failed: {result.exception!r}"
    )
    return Path(result.project_path)


def require_server(name: str, host: str, port: int) -> None:
    """Skip when a server is unreachable, with the reason; fail instead under CI."""
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        reason = f"{name} is not reachable at {host}:{port} ({error})"
        if IN_CI:
            pytest.fail(f"{reason}; CI must run this test, so the server must be up")
        pytest.skip(reason)


def require_tool(names: tuple[str, ...], missing: str, ci_must: str) -> str:
    """The path of the first of ``names`` on PATH. Without any: skip with ``missing`` as
    the reason, or fail under CI, saying what CI must do with it (``ci_must``)."""
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    if IN_CI:
        pytest.fail(f"{missing}; CI must {ci_must}")
    pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30, server: subprocess.Popen[Any] | None = None) -> bool:
    """Poll ``url`` until it answers 2xx or 3xx: True then; False once ``timeout`` seconds
    have passed or ``server`` (the process that should answer) has exited."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return True
        except OSError:
            if (server is not None and server.poll() is not None) or time.monotonic() > deadline:
                return False
            time.sleep(0.2)


@contextmanager
def served(
    project: Path, python: Path | str, env: dict[str, str] | None = None, timeout: float = 30
) -> Iterator[str]:
    """Serve a migrated bake with runserver on a free port; yield its base URL once it answers."""
    port = free_port()
    log = project / "runserver.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(python), "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_for(f"{base}/health/live", timeout, server):
            pytest.fail(f"runserver did not answer at {base}:\n{log.read_text()[-3000:]}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def project_env(python: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment in which `poetry run` and `make` use the baked project's installed venv."""
    base = dict(os.environ if base is None else base)
    return {
        **tasks.tool_env(base),
        "VIRTUAL_ENV": str(python.parent.parent),
        "POETRY_VIRTUALENVS_CREATE": "false",
        # The project's tools first, then Poetry (pre-commit's hooks call it).
        "PATH": os.pathsep.join(
            (str(python.parent), str(tasks.bin_path(tasks.TOOLS_VENV, "")), base["PATH"])
        ),
    }


def make(
    project: Path, python: Path, *targets: str, env: dict[str, str] | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run the baked project's Makefile targets; assert they succeed."""
    result = subprocess.run(
        ["make", *targets, f"POETRY={tasks.bin_path(tasks.TOOLS_VENV, 'poetry')}"],
        cwd=project,
        env={**project_env(python, env), **extra},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"make {targets}:\n{result.stdout[-4000:]}\n{result.stderr}"
    return result


def run_tool(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run one of the template's tools from .venv, which comes first on PATH (actionlint
    finds shellcheck there); its result, unchecked."""
    tools = tasks.bin_path(tasks.TOOLS_VENV, "")
    return subprocess.run(
        [str(tools / name), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": os.pathsep.join((str(tools), os.environ["PATH"]))},
    )


def check_github_workflow(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate a GitHub Actions workflow with check-jsonschema's vendored schema."""
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows", path)


def check_dependabot(path: Path) -> subprocess.CompletedProcess[str]:
    """Validate a .github/dependabot.yml with check-jsonschema's vendored Dependabot schema."""
    return run_tool("check-jsonschema", "--builtin-schema", "vendor.dependabot", path)


def zizmor(workflows: Path) -> subprocess.CompletedProcess[str]:
    """Audit GitHub Actions workflows (a folder, or a file: a workflow or dependabot.yml) with
    zizmor, offline, per .github/zizmor.yml."""
    return run_tool("zizmor", "--offline", "--no-progress", workflows)


def actionlint(*workflows: Path) -> subprocess.CompletedProcess[str]:
    """Lint GitHub Actions workflows with actionlint, shellcheck included for run: steps."""
    return run_tool("actionlint", "-shellcheck", "shellcheck", *workflows)


# Figures from the baked runs (test counts, times), gathered from every
# xdist worker into one directory (conftest.py creates it and prints them
# at the end of the session).
STATS_ENV = "DJANGO_DRF_DOCKER_STATS_DIR"


def record_stat(variant: str, figures: dict[str, Any]) -> None:
    """Keep figures about one variant for the end-of-session summary."""
    directory = Path(os.environ[STATS_ENV])
    path = directory / f"{variant}.json"
    merged = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**merged, **figures}))
