"""App configuration for the books app."""

from django.apps import AppConfig


class BooksConfig(AppConfig):
    """The library's catalogue of books."""

    name = "books"
    verbose_name = "Books"
