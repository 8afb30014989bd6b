"""Which PostgreSQL errors mean the server cannot be reached: a 503 to retry, not a bug.

https://www.postgresql.org/docs/current/errcodes-appendix.html
"""

from django.db import Error, InterfaceError

# Class 08 (connection exception) and 57P (admin or crash shutdown, cannot
# connect now). Class 42 (no such table or column) and the rest are bugs.
UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P")

# The fix for a database that cannot be reached, for runserver and the tests.
UNREACHABLE_HINT = (
    "Start it with `make db` (docker compose), or point DATABASE_URL in .env at a running server."
)


def is_unavailable(error: Error) -> bool:
    """True when the connection was refused, timed out, lost or shut down by the server."""
    if isinstance(error, InterfaceError):  # "the connection is closed"
        return True
    # psycopg raises a failed connect (refused, timed out, no such host) and
    # a connection the server closed without a SQLSTATE.
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES)
