"""How SQLite compares the folded copies (books/folding.py): its default collation is binary."""

from django.db.backends.base.base import BaseDatabaseWrapper

# Django's ``contains`` is already a byte-by-byte comparison here.
PLAIN_LIKE = False


def binary_collation(connection: BaseDatabaseWrapper) -> str | None:
    """None: SQLite's default collation (BINARY) compares byte by byte."""
    return None
