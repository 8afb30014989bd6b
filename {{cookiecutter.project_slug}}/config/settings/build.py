"""Settings for build steps that need no secrets: collectstatic in the Dockerfile.

Some apps read SECRET_KEY when they are imported; a random key, made afresh
in each process and never written anywhere, satisfies them and signs nothing.
"""

from django.core.management.utils import get_random_secret_key

from config.settings.base import *  # noqa: F403

SECRET_KEY = get_random_secret_key()
