"""How MySQL and MariaDB compare the folded copies (books/folding.py): a binary collation
of utf8mb4, and plain ``LIKE``.

Django writes ``LIKE BINARY`` for ``contains`` here, which MySQL 9 deprecates with a
warning; plain ``LIKE`` on a binary-collated column already compares byte by byte.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

PLAIN_LIKE = True


def binary_collation(connection: BaseDatabaseWrapper) -> str | None:
    """MySQL's ``utf8mb4_0900_bin``, or MariaDB's ``utf8mb4_nopad_bin`` (it has no 0900 ones)."""
    if getattr(connection, "mysql_is_mariadb", False):
        return "utf8mb4_nopad_bin"
    return "utf8mb4_0900_bin"
