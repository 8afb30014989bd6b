"""PostgreSQL only: the trigram indexes of 0003 move to the folded columns that search reads.

Search and ``?author=`` now match folded text with ``contains`` (a plain
``LIKE`` on ``title_fold::text`` and the others; see books/folding.py), so
the indexes of ``UPPER(title::text)`` serve nothing any more. A GIN index
of each folded column with pg_trgm's operator class answers the new query
without reading the whole table (for terms of three characters or more).
Other databases have no such migration. Migrating backwards restores 0003's
indexes.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SEARCHED_COLUMNS = ("title", "subtitle", "author")


def fold_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS books_book_{column}_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS books_book_{column}_fold_trgm "
            f'ON books_book USING gin (("{column}_fold"::text) gin_trgm_ops)'
        )


def unfold_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS books_book_{column}_fold_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS books_book_{column}_trgm "
            f'ON books_book USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


class Migration(migrations.Migration):
    dependencies = [("books", "0005_book_folded_copies")]

    operations = [migrations.RunPython(fold_indexes, unfold_indexes)]
