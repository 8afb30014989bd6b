"""The load_sample_books management command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from books.isbn import validate_isbn
from books.management.commands.load_sample_books import SAMPLE_BOOKS
from books.models import Book

pytestmark = pytest.mark.django_db


def test_load_sample_books_adds_the_samples() -> None:
    """A first run adds every sample book with a valid, normalised ISBN."""
    out = StringIO()

    call_command("load_sample_books", stdout=out)

    assert Book.objects.count() == len(SAMPLE_BOOKS)
    assert f"{len(SAMPLE_BOOKS)} added" in out.getvalue()
    for book in Book.objects.all():
        book.full_clean()
        assert "-" not in book.isbn


def test_load_sample_books_is_idempotent() -> None:
    """A second run adds nothing and duplicates nothing."""
    call_command("load_sample_books", stdout=StringIO())
    out = StringIO()

    call_command("load_sample_books", stdout=out)

    assert Book.objects.count() == len(SAMPLE_BOOKS)
    assert "0 added" in out.getvalue()


def test_load_sample_books_adds_synthetic_books_after_earlier_ones() -> None:
    """--synthetic N adds N books with valid, unique ISBNs; a second run adds N more."""
    call_command("load_sample_books", "--synthetic", "6000", stdout=StringIO())
    out = StringIO()

    call_command("load_sample_books", "--synthetic", "7", stdout=out)

    assert Book.objects.count() == len(SAMPLE_BOOKS) + 6007
    assert "Synthetic books: 7 added." in out.getvalue()
    isbns = list(Book.objects.values_list("isbn", flat=True))
    assert len(set(isbns)) == len(isbns)
    for isbn in isbns[:: len(isbns) // 50]:
        validate_isbn(isbn)


def test_load_sample_books_refuses_a_negative_count() -> None:
    """A count below zero is an error that names the option, and adds nothing."""
    with pytest.raises(CommandError, match="--synthetic"):
        call_command("load_sample_books", "--synthetic", "-1", stdout=StringIO())

    assert not Book.objects.exists()
