"""Serializers: how books travel as JSON, and how incoming JSON is validated."""

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework.validators import UniqueValidator

from api_core.serializers import StrictCharField, StrictModelSerializer
from books.isbn import canonical_isbn, validate_isbn
from books.models import Book

DUPLICATE_ISBN = "A book with this ISBN already exists."


# The ISBN shapes validate_isbn accepts, for the schema: ten characters (nine
# digits and a digit or X) or thirteen digits, a hyphen or space between any
# two (as printed: 978-0-306-40615-7), 17 characters at most (max_length).
ISBN_PATTERN = r"^(?:[0-9][- ]?){9}[0-9Xx]$|^(?:[0-9][- ]?){12}[0-9]$"


# format: isbn names what the pattern cannot say (the check digit, the 978/979
# prefix of an ISBN-13); tools that do not know the format ignore it.
@extend_schema_field({"type": "string", "format": "isbn", "pattern": ISBN_PATTERN})
class IsbnSerializerField(StrictCharField):
    """Accept an ISBN-10 or ISBN-13, with or without hyphens and spaces; hand on ISBN-13 digits.

    Converting before the field's validators run means the uniqueness check
    compares the same form that the database stores, so a book sent once as
    an ISBN-10 and once as its ISBN-13 is a duplicate.
    """

    default_error_messages = {
        "shape": "Enter an ISBN-10 or ISBN-13: 10 or 13 characters, at most one hyphen "
        "or space between two (978-0-306-40615-7)."
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 17)
        kwargs["validators"] = [validate_isbn, *kwargs.get("validators", [])]
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        # The length and shape the schema documents, of the value as sent: the
        # field's validators see only the 13 digits of its canonical form.
        value = super().to_internal_value(data)
        if self.max_length is not None and len(value) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        if not re.fullmatch(ISBN_PATTERN, value):
            self.fail("shape")
        return canonical_isbn(value)


class BookSerializer(StrictModelSerializer):
    """A book as the API shows and accepts it."""

    isbn = IsbnSerializerField(
        help_text="ISBN-10 or ISBN-13, with at most one hyphen or space (ignored) between "
        "two characters. Stored and returned as the 13 digits of the ISBN-13.",
        validators=[UniqueValidator(queryset=Book.objects.all(), message=DUPLICATE_ISBN)],
    )

    class Meta:
        model = Book
        fields = ["id", "title", "subtitle", "author", "isbn", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]
