"""The Book model: what the library holds."""

from typing import Any

from django.db import models

from books.folding import FoldedCharField
from books.isbn import canonical_isbn, validate_isbn


class IsbnField(models.CharField):
    """A CharField that stores an ISBN in one canonical form: ISBN-13 digits.

    Converting in ``to_python``, ``pre_save`` and ``get_prep_value`` means
    forms, the ORM and lookups (``Book.objects.get(isbn="0-306-...")``) all
    see one spelling, so the unique constraint catches a duplicate however it
    was typed, as an ISBN-10 or an ISBN-13, with or without hyphens.
    """

    description = "ISBN-10 or ISBN-13, stored as ISBN-13 digits"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 13)
        kwargs.setdefault("validators", [validate_isbn])
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 13:
            del kwargs["max_length"]
        kwargs.pop("validators", None)
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return canonical_isbn(value) if isinstance(value, str) else value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        # The saved instance then holds what its row holds, not what was typed.
        value = self.to_python(super().pre_save(model_instance, add))
        setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return canonical_isbn(value) if isinstance(value, str) else value

    def formfield(self, **kwargs: Any) -> Any:
        # Room for the hyphens people type; the stored value is at most 13.
        return super().formfield(**{"max_length": 17, **kwargs})


class Book(models.Model):
    """A title in the library's catalogue, identified by its ISBN."""

    title = models.CharField(max_length=250)
    subtitle = models.CharField(max_length=250, blank=True)
    author = models.CharField(max_length=250)
    isbn = IsbnField(
        "ISBN",
        help_text="ISBN-10 or ISBN-13; hyphens and spaces are ignored. Stored as ISBN-13.",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # Folded copies (no case, no accents: books/folding.py) that every save
    # fills, compared byte by byte: search, ?author= and ordering mean the
    # same on every database, and an index serves each order.
    title_fold = FoldedCharField(source="title")
    subtitle_fold = FoldedCharField(source="subtitle")
    author_fold = FoldedCharField(source="author")

    class Meta:
        ordering = ["title_fold", "pk"]
        # One index per order the API offers, ending with the primary key that
        # breaks ties, so a page is read from the index instead of sorting the
        # table (see README.md, "Large catalogues").
        indexes = [
            models.Index(fields=["title_fold", "id"], name="books_book_title_order"),
            models.Index(fields=["author_fold", "id"], name="books_book_author_order"),
            models.Index(fields=["created", "id"], name="books_book_created_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["isbn"],
                name="books_book_isbn_unique",
                violation_error_message="A book with this ISBN already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.title
