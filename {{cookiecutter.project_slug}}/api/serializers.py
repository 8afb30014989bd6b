"""Serializers: how books travel as JSON, and how incoming JSON is validated."""

from typing import Any

from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from books.isbn import canonical_isbn, validate_isbn
from books.models import Book

DUPLICATE_ISBN = "A book with this ISBN already exists."


class IsbnSerializerField(serializers.CharField):
    """Accept an ISBN-10 or ISBN-13, with or without hyphens and spaces; hand on ISBN-13 digits.

    Converting before the field's validators run means the uniqueness check
    compares the same form that the database stores, so a book sent once as
    an ISBN-10 and once as its ISBN-13 is a duplicate.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 17)
        kwargs["validators"] = [validate_isbn, *kwargs.get("validators", [])]
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return canonical_isbn(super().to_internal_value(data))


class BookSerializer(serializers.ModelSerializer):
    """A book as the API shows and accepts it."""

    isbn = IsbnSerializerField(
        help_text="ISBN-10 or ISBN-13; hyphens and spaces are ignored. "
        "Stored and returned as the 13 digits of the ISBN-13.",
        validators=[UniqueValidator(queryset=Book.objects.all(), message=DUPLICATE_ISBN)],
    )

    class Meta:
        model = Book
        fields = ["id", "title", "subtitle", "author", "isbn", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]
