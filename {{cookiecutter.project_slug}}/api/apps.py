"""App configuration for the api app."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API; the data it serves belongs to the books app."""

    name = "api"
    verbose_name = "API"
