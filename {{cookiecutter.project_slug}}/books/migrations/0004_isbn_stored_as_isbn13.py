"""Store ISBNs as the 13 digits of the ISBN-13: convert the rows that hold an ISBN-10.

Before this migration an ISBN-10 was stored as typed, so one book could be
in the catalogue twice, once under its ISBN-10 and once under its ISBN-13.
Both rows of such a pair cannot hold the same ISBN-13, and which one to keep
is not the migration's to guess (their details may differ, other rows may
point at either). So it checks every row first and, if any would collide,
stops before changing anything, naming each pair by primary key. Delete or
correct one row of each pair by that key (the model field converts an
ISBN-10 in a lookup, so ``filter(isbn=...)`` finds only the ISBN-13 row) and
run ``migrate`` again.

Rows whose ISBN is 10 characters but not a valid ISBN-10 (never accepted by
the API or the admin) are left as they are. Migrating backwards changes
nothing: the earlier code accepts an ISBN-13 as stored.
"""

from itertools import batched

from django.core.management.base import CommandError
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.functions import Length

import books.models

# Rows per query: well under SQLite's limit on the parameters of one statement.
BATCH_SIZE = 500


def isbn10_as_isbn13(isbn: str) -> str | None:
    """The ISBN-13 of a valid ISBN-10 written without separators, or None.

    A copy of the rule rather than an import from books.isbn, so that this
    migration keeps doing what it did when it was written.
    """
    if len(isbn) != 10 or not isbn.isascii() or not isbn[:9].isdigit():
        return None
    if not (isbn[9].isdigit() or isbn[9] in "Xx"):
        return None
    digits = [int(char) for char in isbn[:9]] + [10 if isbn[9] in "Xx" else int(isbn[9])]
    if sum(weight * digit for weight, digit in zip(range(10, 0, -1), digits, strict=True)) % 11:
        return None
    first_twelve = "978" + isbn[:9]
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first_twelve))
    return first_twelve + str(-total % 10)


def convert_isbn10_rows(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Book = apps.get_model("books", "Book")
    books = Book.objects.using(schema_editor.connection.alias)
    # The field has stored ISBNs without separators since 0001, so an
    # ISBN-10 is a value of exactly ten characters.
    candidates = (
        books.annotate(isbn_length=Length("isbn"))
        .filter(isbn_length=10)
        .order_by("pk")
        .values_list("pk", "title", "isbn")
    )
    conversions = [
        (pk, title, isbn, isbn13)
        for pk, title, isbn in candidates.iterator()
        if (isbn13 := isbn10_as_isbn13(isbn)) is not None
    ]
    collisions = []
    for batch in batched(conversions, BATCH_SIZE):
        holders = {
            isbn: (pk, title)
            for pk, title, isbn in books.filter(
                isbn__in=[isbn13 for *_, isbn13 in batch]
            ).values_list("pk", "title", "isbn")
        }
        collisions += [
            f'  book {pk} "{title}" (ISBN-10 {isbn}) and book {holders[isbn13][0]} '
            f'"{holders[isbn13][1]}" (ISBN-13 {isbn13})'
            for pk, title, isbn, isbn13 in batch
            if isbn13 in holders
        ]
    if collisions:
        raise CommandError(
            f"books.0004: {len(collisions)} book(s) stored under an ISBN-10 are already in "
            "the catalogue under the same ISBN-13, so storing ISBNs as ISBN-13 would make "
            "them duplicates. No row was changed. Delete or correct one book of each pair "
            "by its number (the admin's /admin/books/book/<number>/change/ page), then run "
            "migrate again:\n" + "\n".join(collisions)
        )
    for batch in batched(conversions, BATCH_SIZE):
        books.bulk_update(
            [Book(pk=pk, isbn=isbn13) for pk, _title, _isbn, isbn13 in batch], ["isbn"]
        )


class Migration(migrations.Migration):
    dependencies = [
{%- if cookiecutter.database == "postgresql" %}
        ("books", "0003_search_trigram_indexes"),
{%- else %}
        ("books", "0002_book_order_indexes"),
{%- endif %}
    ]

    operations = [
        migrations.RunPython(convert_isbn10_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="book",
            name="isbn",
            field=books.models.IsbnField(
                help_text="ISBN-10 or ISBN-13; hyphens and spaces are ignored. Stored as ISBN-13.",
                verbose_name="ISBN",
            ),
        ),
    ]
