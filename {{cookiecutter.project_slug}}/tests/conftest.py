"""Fixtures shared by the tests: a database that answers, clients with and without credentials."""

import gc
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django_tasks_db.management.commands import db_worker
from hypothesis import Phase, settings
from pytest_django import DjangoDbBlocker
from rest_framework.test import APIClient

from api_core import errors
from api_core.health import database_problem
from tests.credentials import authorization_for
from tests.factories import UserFactory

# Hypothesis profiles, the contract tests' budget (tests/test_contract.py). "dev",
# the default, keeps the edit-and-test loop short: 5 generated requests per
# operation, different ones each run, and no explicit phase (schemathesis's
# coverage phase, hundreds of boundary and invalid-value requests, runs as explicit
# examples). "ci" is the full budget: the coverage phase and 25 generated requests
# per operation, reproducibly. Hypothesis loads "ci" by itself when the CI variable
# is set; HYPOTHESIS_PROFILE=ci or --hypothesis-profile=ci (make test-full) chooses
# it anywhere.
settings.register_profile(
    "dev", max_examples=5, phases=[Phase.reuse, Phase.generate, Phase.target, Phase.shrink]
)
settings.register_profile("ci", settings.get_profile("ci"), max_examples=25)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if settings.get_current_profile_name() == "ci" else "dev")
)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish() -> None:
    """Exempt what start-up and collection built (Django, the schema, every test) from
    the garbage collector: its full passes would walk those objects again and again."""
    gc.freeze()


@pytest.fixture(scope="session", autouse=True)
def database_reachable(django_db_blocker: DjangoDbBlocker) -> None:
    """Stop at once, in one line naming the fix, when the database cannot be reached."""
    with django_db_blocker.unblock():
        problem = database_problem()
    if problem is not None:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture
def unreachable_database() -> BaseDatabaseWrapper:
    """A connection like the project's to a database that cannot be reached.

    Nothing listens on port 1, and a file database cannot be opened in a
    folder that does not exist; connecting raises the driver's real error.
    """
    default = connections[DEFAULT_DB_ALIAS]
    settings = {
        **default.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": "1",
        "NAME": "/no-such-folder/db",
    }
    return type(default)(settings, alias="unreachable")


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Throttle counts live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def error_codes_are_documented(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every error body a test receives has a code the schema lists (errors.ERROR_CODES).

    Clients generated from the schema parse `code` as an enum, and fail on a
    code it does not list; this check runs under every test that gets an error.
    """
    sent: list[str] = []
    error_body = errors.error_body

    def recording_error_body(
        status_code: int, code: str, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        sent.append(code)
        return error_body(status_code, code, *args, **kwargs)

    monkeypatch.setattr(errors, "error_body", recording_error_body)
    yield
    listed = {code for code, _ in errors.ERROR_CODES}
    missing = sorted(set(sent) - listed)
    assert not missing, f"error codes missing from api_core.errors.ERROR_CODES: {missing}"


@pytest.fixture
def run_worker(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Run every queued task with the real worker command (``--batch``), then return.

    The worker closes stale connections between tasks, as Django does between
    requests; inside a test's transaction that would close the test's own
    connection, so here (as Django's test client does for requests) it does not.
    """
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    return run


def client_for(user: User) -> APIClient:
    """A client that authenticates as ``user`` the way API clients do."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization_for(user))
    return client


@pytest.fixture
def api_client() -> APIClient:
    """A client with no credentials."""
    return APIClient()


@pytest.fixture
def user(db: None) -> User:
    """An ordinary signed-up user."""
    return UserFactory.create()


@pytest.fixture
def auth_client(user: User) -> APIClient:
    """A client signed in as an ordinary user."""
    return client_for(user)


@pytest.fixture
def staff_client(db: None) -> APIClient:
    """A client signed in as a staff user, who may also delete."""
    return client_for(UserFactory.create(is_staff=True))
