"""Settings for the test suite: fast password hashing, no .env secrets needed."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105

# The default hasher is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
