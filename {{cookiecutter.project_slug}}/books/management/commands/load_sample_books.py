"""Load a small sample catalogue (running it again changes nothing), and on request
any number of synthetic books, to try the API on a large catalogue."""

import hashlib
from argparse import ArgumentParser
from collections.abc import Iterator
from itertools import batched
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from books.models import Book

SAMPLE_BOOKS: tuple[dict[str, str], ...] = (
    {
        "title": "Django for APIs",
        "subtitle": "Build web APIs with Python and Django",
        "author": "William S. Vincent",
        "isbn": "979-8-9858890-4-8",
    },
    {
        "title": "Two Scoops of Django 3.x",
        "subtitle": "Best Practices for the Django Web Framework",
        "author": "Daniel Feldroy, Audrey Feldroy",
        "isbn": "978-1-949627-00-8",
    },
    {
        "title": "Fluent Python",
        "subtitle": "Clear, Concise, and Effective Programming",
        "author": "Luciano Ramalho",
        "isbn": "978-1-4920-5635-5",
    },
    {
        "title": "Architecture Patterns with Python",
        "subtitle": (
            "Enabling Test-Driven Development, Domain-Driven Design, and Event-Driven Microservices"
        ),
        "author": "Harry Percival, Bob Gregory",
        "isbn": "978-1-4920-5220-3",
    },
    {
        "title": "Test-Driven Development with Python",
        "subtitle": "Obey the Testing Goat",
        "author": "Harry Percival",
        "isbn": "978-1-4919-5870-4",
    },
)


# Synthetic books have ISBN-13s 979-1-NNNNNNNN-C: a serial number and its check digit.
SYNTHETIC_PREFIX = "9791"
BATCH_SIZE = 5_000


def isbn13(first_twelve: str) -> str:
    """``first_twelve`` digits followed by their ISBN-13 check digit."""
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first_twelve))
    return first_twelve + str(-total % 10)


def synthetic_books(first: int, count: int) -> Iterator[Book]:
    """Books ``first`` to ``first + count - 1``: numbered titles, 1,000 authors, unique
    ISBNs, and a subtitle with a hex word, so that a search such as ``abc`` matches about
    one book in 400, as a word search in a real catalogue might."""
    for serial in range(first, first + count):
        word = hashlib.blake2b(serial.to_bytes(8, "big"), digest_size=6).hexdigest()
        yield Book(
            title=f"Synthetic book {serial:08d}",
            subtitle=f"Edition {word}",
            author=f"Author {serial % 1000}",
            isbn=isbn13(f"{SYNTHETIC_PREFIX}{serial:08d}"),
        )


class Command(BaseCommand):
    help = (
        "Load a small sample catalogue of books (safe to run more than once); "
        "--synthetic N adds N generated books as well."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--synthetic",
            type=int,
            default=0,
            metavar="N",
            help="Also add N generated books, in batches of 5,000 (each run adds N more).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        synthetic: int = options["synthetic"]
        if not 0 <= synthetic <= 10**8 - 1:
            raise CommandError("--synthetic: give a number of books from 0 to 99,999,999.")
        created = 0
        with transaction.atomic():
            for sample in SAMPLE_BOOKS:
                defaults = {key: value for key, value in sample.items() if key != "isbn"}
                _, was_created = Book.objects.update_or_create(
                    isbn=sample["isbn"], defaults=defaults
                )
                created += was_created
        self.stdout.write(
            self.style.SUCCESS(
                f"Sample books: {created} added, {len(SAMPLE_BOOKS) - created} already present."
            )
        )
        if synthetic:
            self.add_synthetic_books(synthetic)

    def add_synthetic_books(self, count: int) -> None:
        """Add ``count`` generated books after the ones earlier runs added."""
        first = Book.objects.filter(isbn__startswith=SYNTHETIC_PREFIX).count()
        if first + count > 10**8:
            raise CommandError("--synthetic: the generated ISBNs would run out; ask for fewer.")
        with transaction.atomic():
            for batch in batched(synthetic_books(first, count), BATCH_SIZE):
                Book.objects.bulk_create(batch)
        self.stdout.write(self.style.SUCCESS(f"Synthetic books: {count} added."))
