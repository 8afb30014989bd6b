"""How the tests authenticate as a user: with the user's database token."""

from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token


def authorization_for(user: User) -> str:
    """The Authorization header value with which API clients act as ``user``."""
    token, _ = Token.objects.get_or_create(user=user)
    return f"Token {token.key}"
