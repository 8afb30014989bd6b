"""The number of rows PostgreSQL's planner expects a query to return, for the bounded count
of api_core/pagination.py."""

from django.db import connections
from django.db.models import QuerySet


def estimated_count(queryset: QuerySet) -> int | None:
    """The planner's row estimate for ``queryset`` (planning only, nothing is read), or
    None on SQLite (a sqlite:// URL, accepted for the image build), which has none."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    return int(plan[0]["Plan"]["Plan Rows"])
