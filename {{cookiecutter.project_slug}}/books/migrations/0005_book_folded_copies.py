"""Folded copies of title, subtitle and author, which search, ``?author=`` and ordering use.

Adds ``title_fold``, ``subtitle_fold`` and ``author_fold`` (books/folding.py),
fills them for the rows already there, a batch at a time, and moves the
title and author order indexes from the lowercased generated columns
(0002), which it then drops, to the folded ones. Migrating backwards
restores the lowercased columns and their indexes.
"""

import unicodedata
from itertools import batched

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

import books.folding

# Rows per query: well under SQLite's limit on the parameters of one statement.
BATCH_SIZE = 500
FOLDED = {"title": "title_fold", "subtitle": "subtitle_fold", "author": "author_fold"}
FOLDED_LENGTH = 600


def fold(text: str) -> str:
    """books.folding.fold as it was when this migration was written (a copy, so that
    the migration keeps doing what it did)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    unmarked = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", unmarked)


def fill_folded_copies(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Book = apps.get_model("books", "Book")
    books = Book.objects.using(schema_editor.connection.alias)
    rows = books.order_by("pk").values_list("pk", *FOLDED).iterator(chunk_size=BATCH_SIZE)
    for batch in batched(rows, BATCH_SIZE):
        folded = []
        for pk, *values in batch:
            copies = zip(FOLDED.values(), values, strict=True)
            folded.append(Book(pk=pk, **{name: fold(value)[:FOLDED_LENGTH] for name, value in copies}))
        books.bulk_update(folded, list(FOLDED.values()))


class Migration(migrations.Migration):
    dependencies = [("books", "0004_isbn_stored_as_isbn13")]

    operations = [
        migrations.AddField(
            model_name="book",
            name="title_fold",
            field=books.folding.FoldedCharField(source="title"),
        ),
        migrations.AddField(
            model_name="book",
            name="subtitle_fold",
            field=books.folding.FoldedCharField(source="subtitle"),
        ),
        migrations.AddField(
            model_name="book",
            name="author_fold",
            field=books.folding.FoldedCharField(source="author"),
        ),
        migrations.RunPython(fill_folded_copies, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="book", name="books_book_title_order"),
        migrations.RemoveIndex(model_name="book", name="books_book_author_order"),
        migrations.AlterModelOptions(name="book", options={"ordering": ["title_fold", "pk"]}),
        migrations.RemoveField(model_name="book", name="title_lower"),
        migrations.RemoveField(model_name="book", name="author_lower"),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["title_fold", "id"], name="books_book_title_order"),
        ),
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["author_fold", "id"], name="books_book_author_order"),
        ),
    ]
