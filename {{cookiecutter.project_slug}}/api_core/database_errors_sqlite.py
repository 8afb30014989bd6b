"""Which SQLite errors are passing conditions (a 503 to retry), not bugs.

https://www.sqlite.org/rescode.html
"""

from django.db import Error

# A writer held the lock past the busy timeout, or the file cannot be
# opened (its volume is missing or read-only). "no such table" and the
# rest are bugs.
UNAVAILABLE_MESSAGES = ("database is locked", "unable to open database file")

# The fix for a database that cannot be reached, for runserver and the tests.
UNREACHABLE_HINT = "Point DATABASE_URL in .env at a file in a folder that exists and is writable."


def is_unavailable(error: Error) -> bool:
    """True when the database file is locked or cannot be opened."""
    return str(error).startswith(UNAVAILABLE_MESSAGES)
