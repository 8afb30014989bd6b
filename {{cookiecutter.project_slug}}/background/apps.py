"""App configuration for the background app."""

from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Background work: the task worker, its heartbeats and the recovery of its lost tasks."""

    name = "background"
    verbose_name = "Background work"
