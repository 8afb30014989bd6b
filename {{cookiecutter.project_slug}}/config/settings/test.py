"""Settings for the test suite: fast password hashing, no .env secrets needed."""

from config.settings.base import *  # noqa: F403

# A fixed key that signs only the tests' throwaway sessions and tokens.
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105
# No collectstatic in tests: WhiteNoise looks files up per request, as in development.
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
# No metrics port: tests read the metrics in process (tests/test_metrics.py).
METRICS_PORT = 0
