"""Fixtures and hooks for the template's tests; what they share is in tests/support/."""

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

# Before the import below, so that the helpers' asserts explain their failures.
pytest.register_assert_rewrite("tests.support")

import tasks  # noqa: E402  (the repository root is on sys.path: pyproject.toml's pythonpath)
from tests.support import STATS_ENV, free_port  # noqa: E402
from tests.support.databases import (  # noqa: E402
    MYSQL_CONTAINER_ENV,
    MYSQL_PORT_ENV,
    remove_mysql_container,
)


@pytest.fixture(scope="session")
def tools_venv() -> Path:
    """The template's own tool environment (Poetry, ruff), created by tasks.py."""
    return tasks.ensure_tools()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and STATS_ENV not in os.environ:
        os.environ[STATS_ENV] = tempfile.mkdtemp(prefix="ddd-stats-")
    if not hasattr(config, "workerinput") and MYSQL_CONTAINER_ENV not in os.environ:
        # This run's MySQL server, if a test needs one: its workers inherit the names.
        os.environ[MYSQL_CONTAINER_ENV] = f"ddd-tests-mysql-{uuid.uuid4().hex[:8]}"
        os.environ.setdefault(MYSQL_PORT_ENV, str(free_port()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    directory = Path(os.environ.get(STATS_ENV, "/nonexistent"))
    files = sorted(directory.glob("*.json")) if directory.is_dir() else []
    if not files:
        return
    terminalreporter.section("baked variants")
    for path in files:
        figures = ", ".join(f"{k}: {v}" for k, v in json.loads(path.read_text()).items())
        terminalreporter.write_line(f"{path.stem}: {figures}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    # The controlling process ends last, after every test worker: the MySQL server
    # that the tests may have started in Docker goes with it.
    if not hasattr(session.config, "workerinput"):
        remove_mysql_container()
