"""Fixtures shared by the tests: clients with and without credentials."""

import gc
import os
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from hypothesis import Phase, settings
{%- if cookiecutter.api_auth == "token" %}
from rest_framework.authtoken.models import Token
{%- endif %}
from rest_framework.test import APIClient
{%- if cookiecutter.api_auth == "jwt" %}
from rest_framework_simplejwt.tokens import RefreshToken
{%- endif %}

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


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Throttle counts live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


def authorization_for(user: User) -> str:
    """The Authorization header value with which API clients act as ``user``."""
{%- if cookiecutter.api_auth == "token" %}
    token, _ = Token.objects.get_or_create(user=user)
    return f"Token {token.key}"
{%- else %}
    return f"Bearer {RefreshToken.for_user(user).access_token}"
{%- endif %}


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
