"""How PostgreSQL compares the folded copies (books/folding.py): in the "C" collation."""

from django.db.backends.base.base import BaseDatabaseWrapper

# Django's ``contains`` (LIKE) compares byte by byte in the column's "C" collation.
PLAIN_LIKE = False


def binary_collation(connection: BaseDatabaseWrapper) -> str | None:
    """The "C" collation: byte order, whatever locale the cluster was created with."""
    return "C"
