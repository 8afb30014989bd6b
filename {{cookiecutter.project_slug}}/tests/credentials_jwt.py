"""How the tests authenticate as a user: with an access token made for the user."""

from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import RefreshToken


def authorization_for(user: User) -> str:
    """The Authorization header value with which API clients act as ``user``."""
    return f"Bearer {RefreshToken.for_user(user).access_token}"
