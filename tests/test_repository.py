"""The template repository itself: its own Python is lint-clean, its workflow valid,
its version and CHANGELOG.md in step."""

import itertools
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

import tasks
from tests.support import ROOT, actionlint, check_github_workflow, zizmor

# Everything but the template folder, which is Jinja (its bakes are linted instead).
PYTHON_PATHS = ["hooks", "tests", "benchmarks", "tasks.py", "local_extensions.py"]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_repository_code_passes_ruff(tools_venv: Path, command: list[str]) -> None:
    """ruff, configured in pyproject.toml, finds nothing (the template folder is excluded)."""
    result = subprocess.run(
        [str(tasks.bin_path(tools_venv, "ruff")), *command, "--no-cache", *PYTHON_PATHS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_template_ci_workflow_is_valid(tools_venv: Path) -> None:
    """.github/workflows/ci.yml passes check-jsonschema's GitHub workflow schema."""
    result = check_github_workflow(ROOT / ".github" / "workflows" / "ci.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_template_ci_workflow_passes_actionlint(tools_venv: Path) -> None:
    """actionlint, with shellcheck on its run: steps, finds nothing in the template's workflow."""
    result = actionlint(ROOT / ".github" / "workflows" / "ci.yml")

    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_what_shellcheck_finds(tmp_path: Path, tools_venv: Path) -> None:
    """The workflow checks would catch a shell mistake: shellcheck runs inside actionlint."""
    workflow = tmp_path / "bad.yml"
    workflow.write_text(
        "on: push\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: mkdir out && cp a.txt out || rm -r out\n"
    )

    result = actionlint(workflow)

    assert result.returncode == 1
    assert "SC2015" in result.stdout


def test_template_ci_workflow_passes_zizmor(tools_venv: Path) -> None:
    """zizmor finds nothing in the template's own workflow (read-only token, no persisted
    credentials; actions pinned to version tags, as .github/zizmor.yml says)."""
    result = zizmor(ROOT / ".github" / "workflows")

    assert result.returncode == 0, result.stdout + result.stderr


def test_changelog_names_the_released_version() -> None:
    """pyproject.toml's version is CHANGELOG.md's newest release, and every release before
    the newest is given as an "Upgrading from" section of the one after it."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", changelog, re.MULTILINE)

    assert released[0] == version
    for newer, older in itertools.pairwise(released):
        entry = changelog[changelog.index(f"## [{newer}]") : changelog.index(f"## [{older}]")]
        assert f"### Upgrading from {older}" in entry, f"{newer} says nothing for {older}"
