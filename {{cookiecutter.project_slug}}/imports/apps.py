"""App configuration for the imports app."""

from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Catalogue imports: a file of books, queued and imported by a background task."""

    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from django.tasks.signals import task_finished

        from imports.tasks import mark_failed

        task_finished.connect(mark_failed, dispatch_uid="imports.mark_failed")
