"""OpenTelemetry's instrumentation of this project's database driver, sqlite3 (SQLite)."""

from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor as DatabaseInstrumentor

__all__ = ["DatabaseInstrumentor"]
