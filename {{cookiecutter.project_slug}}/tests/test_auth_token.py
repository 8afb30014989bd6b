"""Token authentication: a username and password buy a token for the Authorization header."""

import pytest
from django.urls import reverse
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api_core.throttling import AnonRateThrottle
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = reverse("api:token")
BOOKS_URL = reverse("api:book-list")


def test_obtain_token_with_username_and_password(api_client: APIClient) -> None:
    """The token endpoint returns the user's token for valid credentials."""
    user = UserFactory.create()

    response = api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})

    assert response.status_code == status.HTTP_200_OK
    assert response.data == {"token": Token.objects.get(user=user).key}


def test_token_authenticates_writes(api_client: APIClient) -> None:
    """The obtained token, sent as `Authorization: Token ...`, allows a write."""
    user = UserFactory.create()
    token = api_client.post(TOKEN_URL, {"username": user.username, "password": PASSWORD})
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.data['token']}")

    response = api_client.post(
        BOOKS_URL, {"title": "T", "author": "A", "isbn": "978-0-306-40615-7"}
    )

    assert response.status_code == status.HTTP_201_CREATED


def test_obtain_token_rejects_wrong_password(api_client: APIClient) -> None:
    """Wrong credentials get 400 in the shared error shape, and no token is made."""
    user = UserFactory.create()

    response = api_client.post(TOKEN_URL, {"username": user.username, "password": "x"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "invalid"
    assert "non_field_errors" in response.data["errors"]
    assert not Token.objects.exists()


def test_invalid_token_is_401(api_client: APIClient) -> None:
    """A made-up token is refused even for reads, so clients notice a bad key."""
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get(BOOKS_URL)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.data["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"


def test_password_guessing_on_the_token_endpoint_is_throttled(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token endpoint counts anonymous attempts like every view: past the rate, 429."""
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "2/minute")
    # Mid-window, so the attempts cannot straddle the start of a new minute.
    monkeypatch.setattr(AnonRateThrottle, "timer", lambda self: 1_000_000 * 60 + 30.0)
    user = UserFactory.create()
    guess = {"username": user.username, "password": "not-the-password"}

    codes = [api_client.post(TOKEN_URL, guess).status_code for _ in range(3)]

    assert codes == [
        status.HTTP_400_BAD_REQUEST,
        status.HTTP_400_BAD_REQUEST,
        status.HTTP_429_TOO_MANY_REQUESTS,
    ]
