"""What the API's view sets share."""

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import SearchFilter
from rest_framework.settings import api_settings


class ListFiltersOnlyMixin:
    """Filters, search and ordering for the list only, and only those asked for.

    DRF's ``get_object()`` runs the filter backends for an item too (a read, a
    change, a delete), where the URL has already chosen the row: each such
    request would build a FilterSet and validate its form for nothing, and
    ``?author=someone-else`` would turn an existing item into a 404. A list
    request whose query string names no filter and no search (only the page,
    its size, the order or the format) skips those two backends, which would
    change nothing, and keeps the ordering (the default order included).
    """

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if getattr(self, "action", None) != "list":
            return queryset
        request: Any = getattr(self, "request")  # noqa: B009 (set by DRF per request)
        paginator: Any = getattr(self, "paginator", None)
        unfiltered = {
            api_settings.ORDERING_PARAM,
            api_settings.URL_FORMAT_OVERRIDE,
            getattr(paginator, "page_query_param", None),
            getattr(paginator, "page_size_query_param", None),
            getattr(paginator, "cursor_query_param", None),
        }
        if not set(request.query_params) <= unfiltered:
            filtered: QuerySet[Any] = super().filter_queryset(queryset)  # type: ignore[misc]
            return filtered
        for backend in getattr(self, "filter_backends", ()):
            if not issubclass(backend, DjangoFilterBackend | SearchFilter):
                queryset = backend().filter_queryset(request, queryset, self)
        return queryset
