"""The number of rows MySQL's or MariaDB's optimizer expects a query to read, for the bounded
count of api_core/pagination.py."""

from django.db import connections
from django.db.models import QuerySet


def estimated_count(queryset: QuerySet) -> int | None:
    """The optimizer's row estimate for ``queryset`` (from EXPLAIN; nothing is read), or
    None on SQLite (a sqlite:// URL, accepted for the image build), which has none."""
    connection = connections[queryset.db]
    if connection.vendor != "mysql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        # TRADITIONAL: MySQL 8.3+ defaults to its TREE format, which has no
        # "rows" column; MariaDB accepts the keyword too.
        cursor.execute(f"EXPLAIN FORMAT=TRADITIONAL {sql}", params)
        columns = [column[0] for column in cursor.description]
        row = dict(zip(columns, cursor.fetchone(), strict=True))
    return int(row["rows"])
