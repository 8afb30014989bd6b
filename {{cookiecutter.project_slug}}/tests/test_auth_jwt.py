"""JWT authentication: access tokens for requests, refresh tokens that rotate."""

import inspect
import re
import runpy
from pathlib import Path

import pytest
from django.urls import reverse
from environs import EnvValidationError
from rest_framework import status
from rest_framework.test import APIClient
from rest_framework_simplejwt import authentication, serializers

from api_core.errors import ERROR_CODES
from config.settings import auth as settings_auth
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("api:token")
REFRESH_URL = reverse("api:token-refresh")
BOOKS_URL = reverse("api:book-list")


def obtain(api_client: APIClient) -> dict[str, str]:
    user = UserFactory.create()
    response = api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    assert response.status_code == status.HTTP_200_OK
    return response.data


def test_obtain_access_and_refresh_tokens(api_client: APIClient) -> None:
    """Valid credentials get an access and a refresh token."""
    tokens = obtain(api_client)

    assert set(tokens) == {"access", "refresh"}


def test_access_token_authenticates_writes(api_client: APIClient) -> None:
    """The access token, sent as `Authorization: Bearer ...`, allows a write."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {obtain(api_client)['access']}")

    response = api_client.post(
        BOOKS_URL, {"title": "T", "author": "A", "isbn": "978-0-306-40615-7"}
    )

    assert response.status_code == status.HTTP_201_CREATED


def test_refresh_rotates_and_works_once(api_client: APIClient) -> None:
    """A refresh gives a new pair; the old refresh token is then refused."""
    refresh = obtain(api_client)["refresh"]

    first = api_client.post(REFRESH_URL, {"refresh": refresh})
    assert first.status_code == status.HTTP_200_OK
    assert set(first.data) == {"access", "refresh"}
    assert first.data["refresh"] != refresh

    again = api_client.post(REFRESH_URL, {"refresh": refresh})
    assert again.status_code == status.HTTP_401_UNAUTHORIZED
    assert again.data["code"] == "token_not_valid"


def test_obtain_tokens_rejects_wrong_password(api_client: APIClient) -> None:
    """Wrong credentials get 401 in the shared error shape."""
    user = UserFactory.create()

    response = api_client.post(TOKEN_URL, {"username": user.username, "password": "x"})

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.data["code"] == "no_active_account"


def test_invalid_access_token_is_401(api_client: APIClient) -> None:
    """A made-up token is refused even for reads, so clients notice a bad key."""
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-real-token")

    response = api_client.get(BOOKS_URL)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.data["code"] == "token_not_valid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_every_code_simplejwt_raises_is_listed() -> None:
    """The codes simplejwt names when it refuses a token or credentials are all in ERROR_CODES."""
    codes = set(re.findall(r'code="(\w+)"', inspect.getsource(authentication)))
    for serializer in (serializers.TokenObtainSerializer, serializers.TokenRefreshSerializer):
        codes |= set(serializer.default_error_messages)

    assert {"user_not_found", "no_active_account"} <= codes  # the source was read
    assert codes <= {code for code, _ in ERROR_CODES}


@pytest.mark.parametrize("name", ["DJANGO_JWT_ACCESS_MINUTES", "DJANGO_JWT_REFRESH_DAYS"])
def test_a_token_lifetime_below_one_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A lifetime of 0 or less would issue tokens already expired: the variable is named."""
    monkeypatch.setenv(name, "0")

    with pytest.raises(EnvValidationError, match=f'"{name}" invalid'):
        runpy.run_path(str(Path(settings_auth.__file__)))
