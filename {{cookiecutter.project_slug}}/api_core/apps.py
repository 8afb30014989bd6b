"""App configuration for the api_core app."""

from django.apps import AppConfig
from django.db.backends.signals import connection_created


class ApiCoreConfig(AppConfig):
    """API-wide plumbing, no models: the resources' apps build on it."""

    name = "api_core"
    verbose_name = "API core"

    def ready(self) -> None:
        from api_core import metrics, telemetry

        connection_created.connect(metrics.count_queries, dispatch_uid="api_core.metrics")
        # Traces and error reports, if the environment asks for them.
        telemetry.start()
