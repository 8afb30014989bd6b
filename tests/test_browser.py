"""A real browser: headless Chromium loads a baked project's API documentation.

The baked project serves Swagger UI from its own static files (no CDN); the
page builds its operation list with JavaScript from /api/schema/, so only a
browser can show that the documentation works. The screenshot is saved under
pytest's temporary directory for a person to look at. Skips where Chromium is
not installed; fails instead when the CI environment variable is set.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, require_tool, served

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_tool(
        ("chromium", "chromium-browser"),
        "Chromium is not installed (Debian: apt-get install chromium)",
        "run the browser test",
    )


@pytest.fixture
def served_docs(cookies: Cookies, tools_venv: Path) -> Iterator[str]:
    """A fresh default bake (SQLite), migrated and served by runserver; yields its base URL."""
    project = bake(cookies, database="sqlite")
    python = str(tasks.bin_path(tasks.install_project(project, sys.executable), "python"))
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], cwd=project, check=True)
    with served(project, python) as base:
        yield base


def chromium_run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_swagger_ui_lists_the_book_operations(
    chromium: str, served_docs: str, tmp_path: Path
) -> None:
    """/api/docs/ renders in Chromium with every book operation listed; a screenshot is kept."""
    url = f"{served_docs}/api/docs/"

    dom = chromium_run(
        chromium, tmp_path / "profile-dom", "--virtual-time-budget=20000", "--dump-dom", url
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    for method, path in [
        ("get", "/api/v1/books/"),
        ("post", "/api/v1/books/"),
        ("get", "/api/v1/books/{id}/"),
        ("put", "/api/v1/books/{id}/"),
        ("patch", "/api/v1/books/{id}/"),
        ("delete", "/api/v1/books/{id}/"),
    ]:
        assert f"opblock-{method}" in dom.stdout
        assert f'data-path="{path}"' in dom.stdout, f"{method.upper()} {path} not listed"

    screenshot = tmp_path / "api-docs.png"
    shot = chromium_run(
        chromium,
        tmp_path / "profile-shot",
        "--virtual-time-budget=20000",
        "--window-size=1280,1600",
        "--hide-scrollbars",
        f"--screenshot={screenshot}",
        url,
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000
    print(f"screenshot of {url}: {screenshot}")
