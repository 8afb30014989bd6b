"""App configuration for the api_core app."""

from django.apps import AppConfig


class ApiCoreConfig(AppConfig):
    """API-wide plumbing, no models: the resources' apps build on it."""

    name = "api_core"
    verbose_name = "API core"
