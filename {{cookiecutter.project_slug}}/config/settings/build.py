"""Settings for collectstatic in the image build: a throwaway key, an in-memory database."""

import os

from django.core.management.utils import get_random_secret_key

os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")

from config.settings.base import *  # noqa: F403

# Made afresh in each process and never written anywhere: it signs nothing.
SECRET_KEY = get_random_secret_key()
