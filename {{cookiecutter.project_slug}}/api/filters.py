"""Filtering, searching and ordering of the book list."""

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeRangeField
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.request import Request
from rest_framework.views import APIView

from books.folding import fold
from books.models import Book

# What "any case" means, in the schema and README.md ("Search and any case").
ANY_CASE = (
    "Case, accents and compatibility forms are ignored, the same on every database: "
    '`emile` finds "Émile", `strasse` "Straße", `istanbul` "İstanbul", '
    '`οδυσσεας` "ΟΔΥΣΣΕΑΣ". Turkish dotless `ı` is a letter of its own.'
)


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


class FoldedFilter(django_filters.CharFilter):
    """Part of a folded column (``field_name``): the value is folded the same way first.

    A value that folds to nothing (only accents) filters nothing out.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "contains")
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        return super().filter(qs, fold(value) if value else value)


class FoldedSearchFilter(SearchFilter):
    """``?search=``: every word is part of one of the (folded) ``search_fields``.

    The terms are folded as the columns are (books/folding.py) and matched
    with ``contains`` on the folded columns, whose binary collation makes the
    match the same on every database. A term that folds to nothing (only
    accents) is left out.
    """

    search_description = f"Words, each part of the title, subtitle or author. {ANY_CASE}"

    def get_search_terms(self, request: Request) -> list[str]:
        return [term for term in map(fold, super().get_search_terms(request)) if term]

    def construct_search(self, field_name: str, queryset: QuerySet) -> str:
        return f"{field_name}__contains"


class BookFilter(django_filters.FilterSet):
    """``?author=``, ``?isbn=``, ``?created_after=`` and ``?created_before=``."""

    author = FoldedFilter(
        field_name="author_fold", help_text=f"Part of the author's name. {ANY_CASE}"
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
    """``?ordering=title`` or ``-title``, comparing text fields folded (no case, no accents).

    Databases sort text differently (a binary collation puts "Zebra" before
    "apple", an accent-blind one "Äpfel" beside "apple", SQLite's after "zebra");
    ordering by the model's folded columns, compared by code point, and
    breaking ties by primary key in the same direction, gives one answer on
    every database, read from an index.
    """

    # How text sorts, for the schema's description of ``ordering``.
    text_order = (
        "Text sorts folded, as search compares it (no case, no accents), then by code "
        "point: the same order on every database, which is not a dictionary's order for "
        'every language ("ı" sorts after "z", Greek after Latin).'
    )
    ordering_description = (
        f"Sort by `title`, `author` or `created`; `-` reverses (e.g. `-created`). {text_order}"
    )
    lowercased = {"title": "title_fold", "author": "author_fold"}

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        descending = ordering[-1].startswith("-")
        return queryset.order_by(*map(self.column, ordering), "-pk" if descending else "pk")

    def column(self, term: str) -> str:
        name = term.removeprefix("-")
        return term.replace(name, self.lowercased.get(name, name))
