"""Settings read from the environment: defaults, clear errors, a safe production."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list
from config.settings.database import database_settings

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_env_bool_reads_common_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """true/false, 1/0, yes/no and on/off all work, in any case."""
    for raw, expected in [("TRUE", True), ("0", False), ("yes", True), ("Off", False)]:
        monkeypatch.setenv("FLAG", raw)
        assert env_bool("FLAG", default=not expected) is expected


def test_env_bool_names_the_variable_on_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that is not a boolean stops start-up with the variable's name and the fix."""
    monkeypatch.setenv("DJANGO_DEBUG", "maybe")

    with pytest.raises(ImproperlyConfigured, match=r"DJANGO_DEBUG='maybe' is not a boolean"):
        env_bool("DJANGO_DEBUG", default=False)


@pytest.mark.parametrize("raw", ["ten", "-1", "1.5"])
def test_env_int_names_the_variable_on_bad_input(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    """A value that is not a whole number stops start-up with the variable's name."""
    monkeypatch.setenv("DJANGO_CONN_MAX_AGE", raw)

    with pytest.raises(ImproperlyConfigured, match="DJANGO_CONN_MAX_AGE="):
        env_int("DJANGO_CONN_MAX_AGE", default=60)


def test_env_list_splits_on_commas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blanks around and between items are dropped."""
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ")

    assert env_list("HOSTS", default=[]) == ["a.example.com", "b.example.com"]


def test_database_url_with_unsupported_scheme_is_refused() -> None:
    """A DATABASE_URL for a database this project has no driver for names the fix."""
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL has the scheme 'oracle'"):
        database_settings("oracle://user:pw@host/name")


def test_sqlite_database_waits_for_the_write_lock(tmp_path: Path) -> None:
    """SQLite runs in WAL mode with a busy timeout, for concurrent requests."""
    config = database_settings(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] > 0


def run_production_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
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
