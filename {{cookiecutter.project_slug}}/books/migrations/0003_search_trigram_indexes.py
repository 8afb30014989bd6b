"""PostgreSQL only: trigram indexes that serve the API's case-insensitive substring search.

Django's ``icontains`` on PostgreSQL compares ``UPPER(column::text)`` with
``LIKE``; a GIN index of that expression with pg_trgm's operator class
answers it without reading the whole table (for terms of three characters or
more). Other databases skip this migration: local development on SQLite
without ``DATABASE_URL`` runs it as a no-op.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SEARCHED_COLUMNS = ("title", "subtitle", "author")


def create_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension: the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS books_book_{column}_trgm "
            f'ON books_book USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS books_book_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("books", "0002_book_order_indexes")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
