"""Fixtures shared by the tests: clients with and without credentials."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
{%- if cookiecutter.api_auth == "token" %}
from rest_framework.authtoken.models import Token
{%- endif %}
from rest_framework.test import APIClient
{%- if cookiecutter.api_auth == "jwt" %}
from rest_framework_simplejwt.tokens import RefreshToken
{%- endif %}

from config import errors
from tests.factories import UserFactory


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
    assert not missing, f"error codes missing from config.errors.ERROR_CODES: {missing}"


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
