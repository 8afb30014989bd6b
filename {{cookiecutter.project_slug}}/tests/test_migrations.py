"""Data migrations: books.0004 (stored ISBN-10s become ISBN-13s, and a duplicate stops
it) and books.0005 (the folded copies are filled for the rows already there)."""

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
FOLDING = ("books", "0005_book_folded_copies")


def migrate(target: tuple[str, str]) -> None:
    """Apply or unapply migrations, as ``manage.py migrate books <name>`` does."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])


def book_model_at(migration: tuple[str, str]) -> Any:
    """The Book model as it was after ``migration`` (the table has no later columns yet);
    a historical model, built at run time, so typed Any."""
    state = MigrationExecutor(connection).loader.project_state(migration)
    return state.apps.get_model("books", "Book")


def parent_of(migration: tuple[str, str]) -> tuple[str, str]:
    (parent,) = MigrationExecutor(connection).loader.graph.node_map[migration].parents
    return parent.key


@pytest.fixture
def latest_after(transactional_db: None) -> Iterator[None]:
    """Whatever a test migrates to, the database is at the latest state afterwards."""
    yield
    # Rows a failed run left behind would stop the way back, too.
    Book.objects.all().delete()
    for leaf in MigrationExecutor(connection).loader.graph.leaf_nodes("books"):
        migrate(leaf)


@pytest.fixture
def before_0004(latest_after: None) -> None:
    """The database at 0004's parent (0003 or 0002, by database); the latest state afterwards."""
    migrate(parent_of(MIGRATION))


def stored_as_written(isbn: str, **fields: Any) -> Any:
    """A book whose row holds ``isbn`` exactly, as rows written before 0004 could.

    The model field would convert an ISBN-10 on save; a Value expression
    reaches the database as it is.
    """
    OldBook = book_model_at(parent_of(MIGRATION))
    made = BookFactory.build(**fields)
    book = OldBook.objects.create(
        title=made.title, subtitle=made.subtitle, author=made.author, isbn=made.isbn
    )
    OldBook.objects.filter(pk=book.pk).update(isbn=Value(isbn))
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
    assert book_model_at(MIGRATION).objects.get(pk=plain.pk).updated == plain.updated


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


@pytest.mark.usefixtures("latest_after")
def test_0005_fills_the_folded_copies_of_existing_rows_and_goes_back() -> None:
    """Rows written before 0005 get their folded title, subtitle and author, past one
    batch; migrating back restores the lowercased columns the earlier code orders by."""
    migrate(parent_of(FOLDING))
    OldBook = book_model_at(parent_of(FOLDING))
    texts = [("Straße", "", "Émile Zola"), ("İstanbul", "ΟΔΥΣΣΕΑΣ", "Orhan Pamuk")] + [
        (f"Book {n}", "", "Anon") for n in range(600)
    ]
    OldBook.objects.bulk_create(
        OldBook(title=title, subtitle=subtitle, author=author, isbn=f"978{n:010d}")
        for n, (title, subtitle, author) in enumerate(texts)
    )

    migrate(FOLDING)

    FoldedBook = book_model_at(FOLDING)
    folded = FoldedBook.objects.order_by("pk").values_list(
        "title_fold", "subtitle_fold", "author_fold"
    )
    assert list(folded[:2]) == [
        ("strasse", "", "emile zola"),
        ("istanbul", "οδυσσεασ", "orhan pamuk"),
    ]
    assert folded.last() == ("book 599", "", "anon")

    migrate(parent_of(FOLDING))

    lowered = book_model_at(parent_of(FOLDING)).objects.order_by("title_lower", "pk")
    assert list(lowered.values_list("title_lower", flat=True)[:2]) == ["book 0", "book 1"]
