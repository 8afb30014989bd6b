"""The template repository's own Python (hooks, tests, tasks.py) is lint-clean."""

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, check_github_workflow, tasks

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
