"""App configuration for the scaffold app."""

from django.apps import AppConfig


class ScaffoldConfig(AppConfig):
    """`python manage.py startresource`: no models, only the command and its templates."""

    name = "scaffold"
    verbose_name = "Scaffold"
