"""ISBN-10 and ISBN-13: normalisation, the canonical ISBN-13 form and check-digit validation.

https://www.isbn-international.org/content/what-isbn (user manual, section 5)
"""

from django.core.exceptions import ValidationError

# Hyphens and spaces only group the digits; they carry no meaning.
SEPARATORS = str.maketrans("", "", "- ")


def normalize_isbn(value: str) -> str:
    """Return ``value`` without separators, with an ISBN-10 check digit X in uppercase."""
    return value.strip().translate(SEPARATORS).upper()


def isbn10_is_valid(isbn: str) -> bool:
    """Nine digits and a check digit (0-9 or X) whose weighted sum is divisible by 11."""
    # ASCII first: str.isdigit() also accepts digits such as "²" that int() refuses.
    if len(isbn) != 10 or not isbn.isascii():
        return False
    if not isbn[:9].isdigit() or not (isbn[9].isdigit() or isbn[9] == "X"):
        return False
    digits = [int(char) for char in isbn[:9]] + [10 if isbn[9] == "X" else int(isbn[9])]
    total = sum(weight * digit for weight, digit in zip(range(10, 0, -1), digits, strict=True))
    return total % 11 == 0


def isbn13_is_valid(isbn: str) -> bool:
    """Thirteen digits starting 978 or 979 whose alternating 1-3 weighted sum is divisible by 10."""
    if len(isbn) != 13 or not isbn.isascii() or not isbn.isdigit():
        return False
    return isbn.startswith(("978", "979")) and isbn13_check_digit(isbn[:12]) == isbn[12]


def isbn13_check_digit(first_twelve: str) -> str:
    """The ISBN-13 check digit of twelve digits: it makes the 1-3 weighted sum divisible by 10."""
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first_twelve))
    return str(-total % 10)


def canonical_isbn(value: str) -> str:
    """``value`` normalised, and as its ISBN-13 when it is a valid ISBN-10.

    Every ISBN-10 is also an ISBN-13: prefix 978, keep the nine digits and
    recompute the check digit. One book then has one stored form, so the
    unique constraint and ``?isbn=`` treat ``0-306-40615-2`` and
    ``978-0-306-40615-7`` as the same book. Anything else (an ISBN-13, or a
    value that is not a valid ISBN-10) is only normalised, so that
    validation still sees, and rejects, what was typed.
    """
    isbn = normalize_isbn(value)
    if not isbn10_is_valid(isbn):
        return isbn
    first_twelve = "978" + isbn[:9]
    return first_twelve + isbn13_check_digit(first_twelve)


def validate_isbn(value: str) -> None:
    """Raise ValidationError unless ``value`` is a valid ISBN-10 or ISBN-13."""
    isbn = normalize_isbn(value)
    if len(isbn) not in (10, 13) or not isbn.isascii():
        raise ValidationError(
            "Enter an ISBN of 10 or 13 characters (hyphens and spaces are ignored).",
            code="invalid_length",
        )
    if not (isbn10_is_valid(isbn) or isbn13_is_valid(isbn)):
        raise ValidationError(
            "This is not a valid ISBN: check the digits, the last one is a check digit.",
            code="invalid_checksum",
        )
