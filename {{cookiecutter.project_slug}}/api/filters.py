"""Ordering that gives the same order on every database."""

from typing import Any

from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Lower
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView


class CaseInsensitiveOrderingFilter(OrderingFilter):
    """``?ordering=title`` or ``-title``, comparing text fields without case.

    Databases sort mixed case differently (a binary collation puts "Zebra"
    before "apple", a case-insensitive one does not); lowercasing first, and
    breaking ties by primary key, gives one answer on every database.
    """

    text_fields = frozenset({"title", "subtitle", "author"})

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        return queryset.order_by(*map(self.expression, ordering), "pk")

    def expression(self, term: str) -> OrderBy:
        name = term.removeprefix("-")
        value: Any = Lower(name) if name in self.text_fields else F(name)
        return value.desc() if term.startswith("-") else value.asc()
