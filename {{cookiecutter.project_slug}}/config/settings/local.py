"""Settings for development on a laptop: debug on, the database that .env names."""

from django.core.management.utils import get_random_secret_key

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403

# SECURITY WARNING: development only. The post-generation hook writes a key
# into .env; without one, a random key per process keeps the project running
# (sessions then end when the server restarts).
SECRET_KEY = env_str("DJANGO_SECRET_KEY", default=get_random_secret_key())

DEBUG = env_bool("DJANGO_DEBUG", default=True)
