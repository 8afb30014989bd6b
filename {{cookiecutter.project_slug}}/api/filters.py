"""Filtering, searching and ordering of the book list."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeRangeField
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from books.models import Book


def to_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; an error for one that UTC cannot hold (year 1 at +05:00)."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise forms.ValidationError(
            "This date-time is out of range.", code="out_of_range"
        ) from error


class UtcIsoDateTimeRangeField(IsoDateTimeRangeField):
    """An ISO 8601 date-time range, converted to UTC before it reaches the database.

    Python accepts offsets up to 23:59, some databases only up to 15:59, so
    ``2025-01-01T00:00:00-23:00`` could fail in the query; in UTC it cannot.
    """

    def compress(self, data_list: list[Any]) -> slice | None:
        bounds = super().compress(data_list)
        if bounds is None:
            return None
        return slice(to_utc(bounds.start), to_utc(bounds.stop))


class UtcIsoDateTimeFromToRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    field_class = UtcIsoDateTimeRangeField


class BookFilter(django_filters.FilterSet):
    """``?author=``, ``?isbn=``, ``?created_after=`` and ``?created_before=``."""

    author = django_filters.CharFilter(
        lookup_expr="icontains", help_text="Part of the author's name, in any case."
    )
    # The model field converts the value to the stored ISBN-13, so either
    # form of a book's ISBN finds it.
    isbn = django_filters.CharFilter(
        help_text="An exact ISBN, as ISBN-10 or ISBN-13 (either finds the book); "
        "hyphens and spaces are ignored."
    )
    created = UtcIsoDateTimeFromToRangeFilter(
        help_text="Added on or after `created_after` and on or before `created_before` "
        "(ISO 8601 date-times, e.g. 2025-01-31T00:00:00Z)."
    )

    class Meta:
        model = Book
        fields = ["author", "isbn", "created"]


class CaseInsensitiveOrderingFilter(OrderingFilter):
    """``?ordering=title`` or ``-title``, comparing text fields without case.

    Databases sort mixed case differently (a binary collation puts "Zebra"
    before "apple", a case-insensitive one does not); ordering by the
    model's lowercased columns, and breaking ties by primary key in the same
    direction, gives one answer on every database, read from an index.
    """

    lowercased = {"title": "title_lower", "author": "author_lower"}

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        descending = ordering[-1].startswith("-")
        return queryset.order_by(*map(self.column, ordering), "-pk" if descending else "pk")

    def column(self, term: str) -> str:
        name = term.removeprefix("-")
        return term.replace(name, self.lowercased.get(name, name))
