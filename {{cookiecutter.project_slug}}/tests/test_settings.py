"""Settings read from the environment: defaults, clear errors, a safe production."""

import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from environs import EnvValidationError

from config.settings.database import database_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run_base_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_DIR / "config" / "settings" / "base.py"))


def test_debug_reads_common_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """true/false, 1/0, yes/no and on/off all work, in any case."""
    for raw, expected in [("TRUE", True), ("0", False), ("yes", True), ("Off", False)]:
        assert run_base_settings(monkeypatch, DJANGO_DEBUG=raw)["DEBUG"] is expected


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that is not a boolean stops start-up with the variable's name and the problem."""
    with pytest.raises(EnvValidationError, match=r'"DJANGO_DEBUG" invalid.*Not a valid boolean'):
        run_base_settings(monkeypatch, DJANGO_DEBUG="maybe")


@pytest.mark.parametrize("raw", ["ten", "-1", "1.5"])
def test_a_bad_whole_number_names_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    """A value that is not a whole number of at least 0 stops start-up with the variable's name."""
    with pytest.raises(EnvValidationError, match='"DJANGO_NUM_PROXIES" invalid'):
        run_base_settings(monkeypatch, DJANGO_NUM_PROXIES=raw)


def test_a_bad_throttle_rate_names_the_variable_and_the_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rate DRF cannot read stops start-up with the variable's name and an example."""
    with pytest.raises(EnvValidationError, match=r'"DJANGO_THROTTLE_ANON" invalid.*60/minute'):
        run_base_settings(monkeypatch, DJANGO_THROTTLE_ANON="60 per minute")


def test_host_lists_split_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blanks around the items are dropped."""
    settings = run_base_settings(monkeypatch, DJANGO_ALLOWED_HOSTS=" a.example.com, b.example.com ")

    assert settings["ALLOWED_HOSTS"] == ["a.example.com", "b.example.com"]


def test_database_url_with_unsupported_scheme_is_refused() -> None:
    """A DATABASE_URL for a database this project has no driver for names the fix."""
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL has the scheme 'oracle'"):
        database_settings("oracle://user:pw@host/name")


def test_the_image_builds_with_an_in_memory_sqlite_url() -> None:
    """config.settings.build's sqlite://:memory: is accepted whatever the database."""
    assert database_settings("sqlite://:memory:")["ENGINE"] == "django.db.backends.sqlite3"


def test_the_database_in_use_is_set_up_for_concurrent_requests() -> None:
    """SQLite: WAL mode and a busy timeout, so a second writer waits. A server: a connect
    timeout, so an unreachable one fails fast, and checked persistent connections."""
    config = settings.DATABASES["default"]

    if connection.vendor == "sqlite":
        assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
        assert config["OPTIONS"]["timeout"] > 0
    else:
        assert config["OPTIONS"]["connect_timeout"] > 0
        assert config["CONN_MAX_AGE"] > 0
        assert config["CONN_HEALTH_CHECKS"] is True


def run_production_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    # Empty, not deleted: an empty variable counts as unset, and it hides the
    # .env file's line, which environs keeps apart from os.environ.
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "REDIS_URL"):
        monkeypatch.setenv(name, "")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("config.settings.production")


def test_production_refuses_to_start_without_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret key, no start: the message says how to make one."""
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY is not set"):
        run_production_settings(monkeypatch, DJANGO_ALLOWED_HOSTS="example.com")


def test_production_refuses_to_start_without_allowed_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No host names, no start: the message gives an example."""
    with pytest.raises(ImproperlyConfigured, match="DJANGO_ALLOWED_HOSTS is not set"):
        run_production_settings(monkeypatch, DJANGO_SECRET_KEY="k" * 60)


def test_production_refuses_to_start_without_a_shared_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No REDIS_URL, no start: throttle counts are never silently kept per process."""
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL is not set"):
        run_production_settings(
            monkeypatch, DJANGO_SECRET_KEY="k" * 60, DJANGO_ALLOWED_HOSTS="example.com"
        )


def test_production_is_not_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """DEBUG stays off in production even if the environment says otherwise."""
    settings = run_production_settings(
        monkeypatch,
        DJANGO_SECRET_KEY="k" * 60,
        DJANGO_ALLOWED_HOSTS="example.com",
        DJANGO_DEBUG="true",
        REDIS_URL="redis://cache:6379/0",
    )

    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == ["example.com"]


def test_production_asks_for_hsts_preload_only_when_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HSTS preload is off by default (hard to undo) and on with DJANGO_SECURE_HSTS_PRELOAD."""
    required = {
        "DJANGO_SECRET_KEY": "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "REDIS_URL": "redis://cache:6379/0",
    }

    assert run_production_settings(monkeypatch, **required)["SECURE_HSTS_PRELOAD"] is False
    asked = run_production_settings(monkeypatch, **required, DJANGO_SECURE_HSTS_PRELOAD="true")
    assert asked["SECURE_HSTS_PRELOAD"] is True


def test_production_settings_pass_the_deploy_checks() -> None:
    """`manage.py check --deploy` finds nothing to warn about in production's defaults."""
    env = {
        # Only the required variables: production's own defaults are under test.
        **{name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-random-test-value-" + "x1y2z3" * 8,
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "REDIS_URL": "redis://cache:6379/0",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_a_tasks_backend_that_runs_tasks_in_the_request() -> None:
    """Tasks run on the worker in production: a backend that runs them inside the request
    stops start-up with one line naming the variable and the fix."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "a-long-random-test-value-" + "x1y2z3" * 8,
        "DJANGO_ALLOWED_HOSTS": "api.example.com",
        "REDIS_URL": "redis://cache:6379/0",
        "DJANGO_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_TASKS_BACKEND is")
    assert "python manage.py worker" in last
