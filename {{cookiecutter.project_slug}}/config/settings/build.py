"""Settings for build steps that need no secrets and no database: collectstatic.

Some apps read SECRET_KEY when they are imported; a random key, made afresh
in each process and never written anywhere, satisfies them and signs nothing.
"""

import os

from django.core.management.utils import get_random_secret_key

# No database is touched at build time and none is reachable: an in-memory
# one satisfies the settings without a URL or a password in the image.
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from config.settings.base import *  # noqa: F403

SECRET_KEY = get_random_secret_key()
