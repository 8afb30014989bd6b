"""Load a small sample catalogue; running it again changes nothing."""

from typing import Any

from django.core.management.base import BaseCommand
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


class Command(BaseCommand):
    help = "Load a small sample catalogue of books. Safe to run more than once."

    def handle(self, *args: Any, **options: Any) -> None:
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
