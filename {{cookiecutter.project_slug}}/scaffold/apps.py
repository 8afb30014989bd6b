"""App configuration for the scaffold app."""

from django.apps import AppConfig


class ScaffoldConfig(AppConfig):
    """Development commands, no models: startresource (and its templates), runserver."""

    name = "scaffold"
    verbose_name = "Scaffold"
