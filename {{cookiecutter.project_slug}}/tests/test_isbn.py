"""ISBN normalisation, the canonical ISBN-13 form and check digits."""

import pytest
from django.core.exceptions import ValidationError

from books.isbn import canonical_isbn, normalize_isbn, validate_isbn


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("978-0-306-40615-7", "9780306406157"),
        (" 0 306 40615 2 ", "0306406152"),
        ("0-8044-2957-x", "080442957X"),
    ],
)
def test_normalize_isbn_removes_separators(raw: str, normalized: str) -> None:
    """Hyphens and spaces go; a lowercase check digit x becomes X."""
    assert normalize_isbn(raw) == normalized


@pytest.mark.parametrize("isbn", ["9780306406157", "978-0-306-40615-7", "0306406152", "080442957X"])
def test_validate_isbn_accepts_valid_isbns(isbn: str) -> None:
    """Valid ISBN-10 and ISBN-13, with or without hyphens, pass."""
    validate_isbn(isbn)


@pytest.mark.parametrize(
    ("isbn", "code"),
    [
        ("9780306406158", "invalid_checksum"),
        ("0306406153", "invalid_checksum"),
        ("1230306406157", "invalid_checksum"),
        ("978030640615", "invalid_length"),
        ("97803064061570", "invalid_length"),
        ("97803064O6157", "invalid_checksum"),
        ("", "invalid_length"),
    ],
)
def test_validate_isbn_rejects_invalid_isbns(isbn: str, code: str) -> None:
    """A wrong check digit, prefix, character or length is rejected with its own code."""
    with pytest.raises(ValidationError) as excinfo:
        validate_isbn(isbn)
    assert excinfo.value.code == code


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("0-306-40615-2", "9780306406157"),
        (" 0 306 40615 2 ", "9780306406157"),
        ("978-0-306-40615-7", "9780306406157"),
        ("0-8044-2957-x", "9780804429573"),
        ("979-10-90636-07-1", "9791090636071"),
    ],
)
def test_canonical_isbn_is_the_isbn13_digits(raw: str, canonical: str) -> None:
    """An ISBN-10 becomes its ISBN-13 (978, its nine digits, a check digit); an ISBN-13 stays."""
    assert canonical_isbn(raw) == canonical
    validate_isbn(canonical)


@pytest.mark.parametrize("raw", ["0-306-40615-3", "12345", "03064O6152", "²²²²²²²²²²"])
def test_canonical_isbn_leaves_what_is_not_a_valid_isbn10_for_validation(raw: str) -> None:
    """A wrong check digit or a stray character is only normalised, so validation rejects it.

    "²" is a digit to str.isdigit() but not to int(): it must not raise.
    """
    assert canonical_isbn(raw) == normalize_isbn(raw)
    with pytest.raises(ValidationError):
        validate_isbn(canonical_isbn(raw))
