"""The load_sample_books management command."""

from io import StringIO

import pytest
from django.core.management import call_command

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
