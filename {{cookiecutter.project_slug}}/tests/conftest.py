"""Fixtures shared by the tests: clients with and without credentials."""

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture
def api_client() -> APIClient:
    """A client with no credentials."""
    return APIClient()


@pytest.fixture
def user(db: None) -> AbstractBaseUser:
    """An ordinary signed-up user."""
    return UserFactory()


@pytest.fixture
def token_client(user: AbstractBaseUser) -> APIClient:
    """A client that sends the user's API token."""
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
