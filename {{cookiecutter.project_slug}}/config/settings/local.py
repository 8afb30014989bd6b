"""Settings for development on a laptop: debug on, the database that .env names."""

from django.core.management.utils import get_random_secret_key

from config.env import env
from config.settings.base import *  # noqa: F403

# SECURITY WARNING: development only; with no key in .env, a random one per process.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", "") or get_random_secret_key()
DEBUG = env.bool("DJANGO_DEBUG", True)
