"""App configuration for the imports app."""

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Catalogue imports: a file of books, queued and imported by a background task."""

    name = "imports"
    verbose_name = "Imports"
