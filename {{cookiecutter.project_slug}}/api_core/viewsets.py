"""What the API's view sets share."""

from typing import Any

from django.db.models import QuerySet


class ListFiltersOnlyMixin:
    """Filters, search and ordering for the list only.

    DRF's ``get_object()`` runs the filter backends for an item too (a read, a
    change, a delete), where the URL has already chosen the row: each such
    request would build a FilterSet and validate its form for nothing, and
    ``?author=someone-else`` would turn an existing item into a 404.
    """

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "action", None) != "list":
            return queryset
        filtered: QuerySet[Any] = super().filter_queryset(queryset)  # type: ignore[misc]
        return filtered
