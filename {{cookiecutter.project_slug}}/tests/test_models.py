"""The Book model: ISBNs stored as ISBN-13 digits, uniqueness, validation."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from books.models import Book
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def test_book_stores_isbn_without_hyphens() -> None:
    """An ISBN saved with hyphens is stored, and found, without them."""
    Book.objects.create(title="T", author="A", isbn="978-0-306-40615-7")

    assert Book.objects.get().isbn == "9780306406157"
    assert Book.objects.filter(isbn="978-0-306-40615-7").exists()


def test_create_stores_an_isbn10_as_its_isbn13() -> None:
    """The ORM stores the canonical form, so code that bypasses the API cannot add a second form.

    The saved instance holds it too, and a lookup by either form finds the row.
    """
    book = Book.objects.create(title="T", author="A", isbn="0-306-40615-2")

    assert book.isbn == "9780306406157"
    assert Book.objects.values_list("isbn", flat=True).get() == "9780306406157"
    assert Book.objects.get(isbn="0306406152") == book
    assert Book.objects.get(isbn="978-0-306-40615-7") == book


def test_full_clean_turns_an_isbn10_into_its_isbn13() -> None:
    """Model validation (as the admin runs it) gives the canonical form before saving."""
    book = Book(title="T", author="A", isbn="0-306-40615-2")

    book.full_clean()

    assert book.isbn == "9780306406157"


def test_full_clean_rejects_the_isbn10_of_a_book_stored_as_isbn13() -> None:
    """The two forms of one ISBN are one book: the second is a duplicate."""
    BookFactory.create(isbn="9780306406157")
    book = Book(title="T", author="A", isbn="0306406152")

    with pytest.raises(ValidationError) as excinfo:
        book.full_clean()

    assert excinfo.value.messages == ["A book with this ISBN already exists."]


def test_database_rejects_the_isbn13_of_a_book_saved_as_isbn10() -> None:
    """Without validation, the unique constraint still sees one ISBN in both forms."""
    Book.objects.create(title="T", author="A", isbn="0306406152")

    with pytest.raises(IntegrityError):
        Book.objects.create(title="T", author="A", isbn="9780306406157")


def test_full_clean_normalizes_isbn() -> None:
    """Model validation (as the admin runs it) normalises before checking length."""
    book = Book(title="T", author="A", isbn="978-0-306-40615-7")

    book.full_clean()

    assert book.isbn == "9780306406157"


def test_full_clean_rejects_invalid_isbn() -> None:
    """A bad check digit is a validation error on the isbn field."""
    book = Book(title="T", author="A", isbn="9780306406158")

    with pytest.raises(ValidationError) as excinfo:
        book.full_clean()

    assert "isbn" in excinfo.value.message_dict


def test_full_clean_rejects_duplicate_isbn_however_spelled() -> None:
    """The unique constraint compares normalised ISBNs."""
    BookFactory.create(isbn="9780306406157")
    book = Book(title="T", author="A", isbn="978-0-306-40615-7")

    with pytest.raises(ValidationError) as excinfo:
        book.full_clean()

    assert excinfo.value.messages == ["A book with this ISBN already exists."]


def test_database_rejects_duplicate_isbn() -> None:
    """The constraint holds in the database, not only in validation."""
    BookFactory.create(isbn="9780306406157")

    with pytest.raises(IntegrityError):
        Book.objects.create(title="T", author="A", isbn="978-0306406157")


def test_books_are_ordered_by_title_ignoring_case() -> None:
    """The catalogue order does not depend on the database's collation."""
    for title in ["banana", "Cherry", "apple", "Date"]:
        BookFactory.create(title=title)

    assert list(Book.objects.values_list("title", flat=True)) == [
        "apple",
        "banana",
        "Cherry",
        "Date",
    ]


def test_str_is_the_title() -> None:
    """A book reads as its title in the admin and the shell."""
    assert str(BookFactory.build(title="Dune")) == "Dune"
