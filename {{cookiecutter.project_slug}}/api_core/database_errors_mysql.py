"""Which MySQL or MariaDB errors mean the server cannot be reached: a 503 to retry, not a bug.

https://mariadb.com/kb/en/mariadb-error-code-reference/
"""

from django.db import Error, InterfaceError

# Client codes for a connection refused, unknown host, gone or lost (2002,
# 2003, 2005, 2006, 2013, 2055), and the server's "too many connections"
# (1040), "shutdown in progress" (1053) and idle disconnect (4031). Unknown
# columns (1054) and the rest are bugs.
UNAVAILABLE_CODES = frozenset({2002, 2003, 2005, 2006, 2013, 2055, 1040, 1053, 4031})

# The fix for a database that cannot be reached, for runserver and the tests.
UNREACHABLE_HINT = (
    "Start it with `make db` (docker compose), or point DATABASE_URL in .env at a running server."
)


def is_unavailable(error: Error) -> bool:
    """True when the connection was refused, lost or shut down by the server."""
    if isinstance(error, InterfaceError):
        return True
    args: tuple[object, ...] = getattr(error.__cause__, "args", ())
    return bool(args) and args[0] in UNAVAILABLE_CODES
