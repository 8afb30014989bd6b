"""OpenTelemetry's instrumentation of the database driver, mysqlclient (MySQL, MariaDB)."""

from opentelemetry.instrumentation.mysqlclient import (
    MySQLClientInstrumentor as DatabaseInstrumentor,
)

__all__ = ["DatabaseInstrumentor"]
