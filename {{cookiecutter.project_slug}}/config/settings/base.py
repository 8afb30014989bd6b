"""Settings shared by every environment; the other modules import and adjust these.

Every value that differs between deployments comes from an environment
variable (a .env file in development). The table of variables is in README.md.
https://docs.djangoproject.com/en/6.1/topics/settings/
https://docs.djangoproject.com/en/6.1/ref/settings/
"""

from pathlib import Path

from dotenv import load_dotenv

from config.env import env_bool, env_list, env_str
from config.settings.database import database_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent

# Values already in the environment win over the .env file, so a deployment
# (or a test run) can override any line of it.
load_dotenv(BASE_DIR / ".env", override=False)

# The name shown on the library website.
PROJECT_NAME = {{ cookiecutter.project_name | quoted }}


# Core
# https://docs.djangoproject.com/en/6.1/ref/settings/#core-settings

# SECURITY WARNING: never run with DEBUG on in production.
DEBUG = env_bool("DJANGO_DEBUG", default=False)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

ROOT_URLCONF = "config.urls"

WSGI_APPLICATION = "config.wsgi.application"


# Applications
# https://docs.djangoproject.com/en/6.1/ref/applications/

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "books.apps.BooksConfig",
{%- if cookiecutter.app_layout == "split" %}
    "api.apps.ApiConfig",
{%- endif %}
]

MIDDLEWARE = [
    # First: health probes need no host check, redirect or session.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files (admin, browsable API) from the app.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# Database
# https://docs.djangoproject.com/en/6.1/ref/settings/#databases

DATABASES = {
    "default": database_settings(
        env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    ),
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Passwords
# https://docs.djangoproject.com/en/6.1/ref/settings/#auth-password-validators

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# Internationalization
# https://docs.djangoproject.com/en/6.1/topics/i18n/

LANGUAGE_CODE = "en-us"

TIME_ZONE = {{ cookiecutter.timezone | quoted }}

USE_I18N = True

USE_TZ = True


# Static files
# https://docs.djangoproject.com/en/6.1/howto/static-files/

STATIC_URL = "static/"

STATIC_ROOT = BASE_DIR / "staticfiles"

# Compressed files with content hashes in their names, cached forever by
# browsers. collectstatic runs at image build time with these base settings.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# Django REST Framework: the whole API configuration lives in this one dict.
# https://www.django-rest-framework.org/api-guide/settings/

REST_FRAMEWORK = {
    # Token first: an anonymous write then gets 401 with a WWW-Authenticate
    # header naming the scheme, rather than a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads are open to everyone; writes need a signed-in user.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}


# Logging: everything to the console, where a container runtime collects it.
# https://docs.djangoproject.com/en/6.1/topics/logging/

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", default="INFO")},
    # Django's own default logging prints these too; keep one copy.
    "loggers": {"django": {"handlers": ["console"], "propagate": False}},
}
