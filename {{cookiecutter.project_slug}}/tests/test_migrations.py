"""Data migration books.0004: stored ISBN-10s become ISBN-13s, and a duplicate stops it."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Value

from books.models import Book
from tests.factories import BookFactory

MIGRATION = ("books", "0004_isbn_stored_as_isbn13")


def migrate(target: tuple[str, str]) -> None:
    """Apply or unapply migrations, as ``manage.py migrate books <name>`` does."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.fixture
def before_0004(transactional_db: None) -> Iterator[None]:
    """The database at 0004's parent (0003 or 0002, by database); the latest state afterwards."""
    graph = MigrationExecutor(connection).loader.graph
    (parent,) = graph.node_map[MIGRATION].parents
    migrate(parent.key)
    yield
    # Rows a failed run left behind would stop the way back, too.
    Book.objects.all().delete()
    for leaf in graph.leaf_nodes("books"):
        migrate(leaf)


def stored_as_written(isbn: str, **fields: Any) -> Book:
    """A book whose row holds ``isbn`` exactly, as rows written before 0004 could.

    The model field would convert an ISBN-10 on save; a Value expression
    reaches the database as it is.
    """
    book = BookFactory.create(**fields)
    Book.objects.filter(pk=book.pk).update(isbn=Value(isbn))
    return book


def stored_isbn(book: Book) -> str:
    """The ISBN as the row holds it (the field does not convert what it reads)."""
    return Book.objects.values_list("isbn", flat=True).get(pk=book.pk)


@pytest.mark.usefixtures("before_0004")
def test_0004_turns_stored_isbn10s_into_their_isbn13s() -> None:
    """Every valid ISBN-10 row becomes its ISBN-13; ISBN-13s and invalid values stay as they are.

    A change of form is not an edit: ``updated`` keeps its value.
    """
    plain = stored_as_written("0306406152")
    with_x = stored_as_written("080442957X")
    isbn13 = stored_as_written("9780441172719")
    invalid = stored_as_written("0306406153")
    assert stored_isbn(plain) == "0306406152"

    migrate(MIGRATION)

    assert stored_isbn(plain) == "9780306406157"
    assert stored_isbn(with_x) == "9780804429573"
    assert stored_isbn(isbn13) == "9780441172719"
    assert stored_isbn(invalid) == "0306406153"
    assert Book.objects.get(pk=plain.pk).updated == plain.updated


@pytest.mark.usefixtures("before_0004")
def test_0004_stops_on_a_collision_naming_both_rows_and_changes_nothing() -> None:
    """An ISBN-10 row whose ISBN-13 is another row's is named, with that row, and no row changes.

    Once one of the pair is gone, the migration runs.
    """
    kept = stored_as_written("9780306406157", title="Dune (ISBN-13)")
    duplicate = stored_as_written("0306406152", title="Dune (ISBN-10)")
    bystander = stored_as_written("080442957X")

    with pytest.raises(CommandError) as excinfo:
        migrate(MIGRATION)

    message = str(excinfo.value)
    assert "1 book(s)" in message
    assert (
        f'book {duplicate.pk} "Dune (ISBN-10)" (ISBN-10 0306406152) and '
        f'book {kept.pk} "Dune (ISBN-13)" (ISBN-13 9780306406157)'
    ) in message
    assert [stored_isbn(book) for book in (kept, duplicate, bystander)] == [
        "9780306406157",
        "0306406152",
        "080442957X",
    ]

    duplicate.delete()
    migrate(MIGRATION)

    assert stored_isbn(bystander) == "9780804429573"
