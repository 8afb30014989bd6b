"""OpenTelemetry's instrumentation of this project's database driver, psycopg (PostgreSQL)."""

from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor as DatabaseInstrumentor

__all__ = ["DatabaseInstrumentor"]
