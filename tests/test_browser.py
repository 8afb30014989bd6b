"""A real browser: headless Chromium loads a baked project's API documentation.

The baked project serves Swagger UI and ReDoc from its own static files (no
CDN), each under its own strict Content-Security-Policy; both pages build
their operation lists with JavaScript from /api/schema/, so only a browser can
show that the documentation works under that policy. Playwright drives
Debian's Chromium and watches every request the pages make (none may go to
another host) and every Content-Security-Policy violation (there may be none).
Screenshots are saved under pytest's temporary directory for a person to look
at. Skips where Chromium is not installed; fails instead when the CI
environment variable is set.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect, sync_playwright
from pytest_cookies.plugin import Cookies

import tasks
from tests.support import bake, require_tool, served

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# The book operations, as Swagger UI and ReDoc name them (operation ids).
BOOK_OPERATIONS = [
    ("get", "/api/v1/books/", "books_list"),
    ("post", "/api/v1/books/", "books_create"),
    ("get", "/api/v1/books/{id}/", "books_retrieve"),
    ("put", "/api/v1/books/{id}/", "books_update"),
    ("patch", "/api/v1/books/{id}/", "books_partial_update"),
    ("delete", "/api/v1/books/{id}/", "books_destroy"),
]

USERNAME = "staff"
PASSWORD = "browser-test-password"

# Each Content-Security-Policy violation, as the page's own event reports it
# (the console shows them too; both are checked).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.effectiveDirective} refused ${event.blockedURI}`);
});
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_tool(
        ("chromium", "chromium-browser"),
        "Chromium is not installed (Debian: apt-get install chromium)",
        "run the browser test",
    )


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served_docs(cookies_session: Cookies, tools_venv: Path) -> Iterator[str]:
    """A default bake (SQLite), migrated, with the sample books and a staff user, served
    by runserver with its shipped settings; yields its base URL."""
    project = bake(cookies_session, database="sqlite")
    python = str(tasks.bin_path(tasks.install_project(project, sys.executable), "python"))
    # Nothing from this process may point the bake at another database or settings.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    for command in (
        ["migrate", "--verbosity", "0"],
        ["load_sample_books"],
        ["createsuperuser", "--noinput", f"--username={USERNAME}", "--email=staff@example.com"],
    ):
        subprocess.run(
            [python, "manage.py", *command],
            cwd=project,
            env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            check=True,
        )
    with served(project, python, env) as base:
        yield base


@dataclass
class Watched:
    """What a page did: every URL it requested, its console errors, its CSP violations."""

    page: Page
    base: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def to_other_hosts(self) -> list[str]:
        """Requests that left the project's own origin (blob: URLs it made itself stay)."""
        own = (f"{self.base}/", f"blob:{self.base}/", "data:")
        return [url for url in self.requests if not url.startswith(own)]

    def policy_violations(self) -> list[str]:
        """Content-Security-Policy and Permissions-Policy complaints, from either source."""
        console = [
            text
            for text in self.console_errors
            if "Content Security Policy" in text or "Permissions-Policy" in text
        ]
        return console + self.page.evaluate("window.cspViolations")

    def assert_clean(self) -> None:
        assert self.requests, "the page made no request at all"
        assert self.to_other_hosts() == []
        assert self.policy_violations() == []
        assert self.page_errors == []


@pytest.fixture
def watched(browser: Browser, served_docs: str) -> Iterator[Watched]:
    """A fresh browser context whose page records what it requests and complains of."""
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    watch = Watched(page, served_docs)

    def on_request(request: Request) -> None:
        watch.requests.append(request.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            watch.console_errors.append(message.text)

    context.on("request", on_request)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
    page.add_init_script(RECORD_VIOLATIONS)
    yield watch
    context.close()


def test_swagger_ui_lists_the_book_operations_and_tries_one_out(
    watched: Watched, tmp_path: Path
) -> None:
    """/api/docs/ under its shipped policy: every book operation listed, "Try it out" on
    the list answers 200 with the sample books, nothing fetched from another host and no
    policy violation; a screenshot is kept."""
    page = watched.page
    response = page.goto(f"{watched.base}/api/docs/")
    assert response is not None
    assert "script-src 'self';" in response.headers["content-security-policy"]

    for method, path, operation_id in BOOK_OPERATIONS:
        operation = page.locator(f"#operations-books-{operation_id}")
        expect(operation).to_have_class(f"opblock opblock-{method}", timeout=20_000)
        expect(operation.locator(".opblock-summary-path")).to_have_attribute("data-path", path)

    books_list = page.locator("#operations-books-books_list")
    books_list.locator(".opblock-summary-control").click()
    books_list.get_by_role("button", name="Try it out").click()
    books_list.get_by_role("button", name="Execute").click()
    live = books_list.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_have_text("200", timeout=20_000)
    expect(live.locator(".response-col_description")).to_contain_text('"title": "Fluent Python"')

    watched.assert_clean()
    assert f"{watched.base}/api/v1/books/" in watched.requests

    screenshot = tmp_path / "api-docs.png"
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 20_000
    print(f"screenshot of /api/docs/: {screenshot}")


def test_a_staff_user_signs_in_to_the_admin_and_adds_a_book_from_swagger_ui(
    watched: Watched,
) -> None:
    """The admin's sign-in, index and book form work under the HTML pages' policy; then
    Swagger UI's "Try it out" posts a book with the session and its CSRF header: 201."""
    page, base = watched.page, watched.base
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/admin/")
    page.goto(f"{base}/admin/books/book/add/")
    expect(page.locator("#book_form")).to_be_visible()

    page.goto(f"{base}/api/docs/")
    books_create = page.locator("#operations-books-books_create")
    books_create.locator(".opblock-summary-control").click()
    books_create.get_by_role("button", name="Try it out").click()
    books_create.locator("textarea.body-param__text").fill(
        '{"title": "Dune", "author": "Frank Herbert", "isbn": "978-0-441-17271-9"}'
    )
    books_create.get_by_role("button", name="Execute").click()
    live = books_create.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_have_text("201", timeout=20_000)
    expect(live.locator(".response-col_description")).to_contain_text('"isbn": "9780441172719"')

    watched.assert_clean()


def test_redoc_lists_the_book_operations_and_searches_offline(
    watched: Watched, tmp_path: Path
) -> None:
    """/api/redoc/ under its shipped policy: every book operation rendered, search finds
    one, no font or logo from another host and no policy violation; a screenshot is kept."""
    page = watched.page
    response = page.goto(f"{watched.base}/api/redoc/")
    assert response is not None
    assert "'nonce-" in response.headers["content-security-policy"]

    for method, path, operation_id in BOOK_OPERATIONS:
        section = page.locator(f'[data-section-id="operation/{operation_id}"]')
        expect(section).to_contain_text(path, timeout=20_000)
        expect(section).to_contain_text(method, ignore_case=True)

    # ReDoc lists a result by its operation's summary.
    page.get_by_placeholder("Search...").fill("fields")
    results = page.locator('[data-role="search:results"]')
    expect(results).to_contain_text("Change some fields of a book", timeout=10_000)

    watched.assert_clean()
    # The search index is built in a worker that ReDoc starts from a blob: URL.
    assert any(url.startswith(f"blob:{watched.base}/") for url in watched.requests)

    screenshot = tmp_path / "api-redoc.png"
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 20_000
    print(f"screenshot of /api/redoc/: {screenshot}")
