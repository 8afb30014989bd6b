"""Row estimates for the bounded count of api_core/pagination.py: SQLite's planner gives none."""

from django.db.models import QuerySet


def estimated_count(queryset: QuerySet) -> int | None:
    """None: the paginator then counts exactly (SQLite counts from its smallest index)."""
    return None
