"""Settings for the test suite: fast password hashing, no .env secrets needed."""

from config.settings.base import *  # noqa: F403

# A fixed key that signs only the tests' throwaway sessions and tokens.
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105

# Tests run with DEBUG off and no collectstatic: no manifest to look names up
# in, and no STATIC_ROOT for WhiteNoise to index at start-up (it would warn),
# so it looks files up per request as in development.
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Throttling has its own tests; everywhere else it would only get in the way.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/second", "user": "100000/second"},
}

# The default hasher is deliberately slow; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file rather than memory: the concurrency tests need connections that
    # wait on each other's locks, as web workers do.
    DATABASES["default"]["TEST"] = {"NAME": BASE_DIR / "test-db.sqlite3"}  # noqa: F405
