"""The OpenAPI schema of real bakes passes two outside linters with nothing to report.

For each authentication choice (and for a bake that is not open source, whose
licence has no public text) a SQLite bake writes its schema with
`manage.py spectacular --file schema.yaml --validate`, as a user would, and
`redocly lint` (the recommended rules) and `spectral lint` (spectral:oas) read
it. Both are pinned in tests/schema_lint/package-lock.json, installed once per
lock under the cache folder; their exemptions, each with its reason, are in
the configuration files beside it.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, require_tool

pytestmark = pytest.mark.slow

LINT_DIR = Path(__file__).parent / "schema_lint"
# The bake's answers, and the redocly configuration for its schema.
BAKES = {
    "token": ({"api_auth": "token"}, "redocly.yaml"),
    "jwt": ({"api_auth": "jwt"}, "redocly.yaml"),
    "not-open-source": (
        {"api_auth": "token", "open_source_license": "Not open source"},
        "redocly-proprietary.yaml",
    ),
}


@pytest.fixture(scope="session")
def linters() -> Path:
    """The folder whose node_modules hold the pinned linters, installed by `npm ci` once
    per package-lock.json."""
    npm = require_tool(("npm",), "npm is not installed", "install Node.js and npm")
    lock = (LINT_DIR / "package-lock.json").read_bytes()
    target = tasks.CACHE_DIR / "schema-lint" / hashlib.sha256(lock).hexdigest()[:16]
    with tasks.locked(target.with_suffix(".lock")):
        if not (target / ".installed").is_file():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(LINT_DIR / name, target / name)
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=target,
                check=True,
                capture_output=True,
            )
            (target / ".installed").write_text("")
    return target


def lint(linters: Path, tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [linters / "node_modules" / ".bin" / tool, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "REDOCLY_TELEMETRY": "off"},
    )


@pytest.mark.parametrize("name", list(BAKES))
def test_schema_passes_redocly_and_spectral(
    name: str, cookies: Cookies, tools_venv: Path, linters: Path
) -> None:
    """No error and no warning from either linter on the schema a bake writes."""
    answers, redocly_config = BAKES[name]
    project = bake(cookies, database="sqlite", **answers)
    python = tasks.bin_path(tasks.install_project(project, sys.executable), "python")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    subprocess.run(
        [python, "manage.py", "spectacular", "--file", "schema.yaml", "--validate"],
        cwd=project,
        env=env,
        check=True,
    )
    schema = project / "schema.yaml"

    redocly = lint(
        linters,
        "redocly",
        "lint",
        "--config",
        LINT_DIR / redocly_config,
        "--format",
        "json",
        schema,
    )
    # spectral prints a line of prose after its JSON: the JSON goes to a file.
    found = project / "spectral.json"
    spectral = lint(
        linters,
        "spectral",
        "lint",
        "--ruleset",
        LINT_DIR / ".spectral.yaml",
        "--format",
        "json",
        "--output",
        found,
        "--fail-severity",
        "hint",
        schema,
    )

    redocly_problems = json.loads(redocly.stdout)["problems"]
    assert (redocly.returncode, redocly_problems) == (0, []), redocly.stderr
    spectral_problems = json.loads(found.read_text(encoding="utf-8"))
    assert (spectral.returncode, spectral_problems) == (0, []), spectral.stderr
