"""What the query-plan tests share: the list requests the API offers, a large catalogue,
and the SQL of the page query that a request runs."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from api_core.pagination import cursor_after
from books.folding import fold
from books.management.commands.load_sample_books import synthetic_books
from books.models import Book

# Each order the API offers, and a page further in.
ORDERINGS = {
    "default order": {},
    "page 5": {"page": "5"},
    "title": {"ordering": "title"},
    "-title": {"ordering": "-title"},
    "author": {"ordering": "author"},
    "-author": {"ordering": "-author"},
    "created": {"ordering": "created"},
    "-created": {"ordering": "-created"},
}
# Each order again, for cursor pages: how far in does not change their query.
CURSOR_ORDERINGS = {name: params for name, params in ORDERINGS.items() if "page" not in params}
# How many books into the list a deep cursor starts (numbered pages would read them all).
CURSOR_DEPTH = 15_000
FILTERS = {
    "isbn": {"isbn": "979-1-00001234-6"},
    # The synthetic books were all added within this window.
    "created range": {
        "created_after": f"{date.today() - timedelta(days=1)}T00:00:00Z",
        "created_before": f"{date.today() + timedelta(days=1)}T00:00:00Z",
    },
    "author": {"author": "author 7"},
}
# Matches about one synthetic book in 400 (a hex word in each subtitle).
SEARCH = {"search": "abc"}
# Enough rows for every planner to prefer an index where one serves.
ROWS = 20_000


def fill_catalogue(statistics_sql: str) -> None:
    """Add ROWS of load_sample_books's synthetic books (with the folded copies that
    ``save()`` would fill), then refresh the planner's
    statistics with ``statistics_sql`` (outside a transaction: some such statements
    refuse one, or commit).

    The rows are the command's own, inserted with one executemany: the command's
    bulk_create (tested in test_commands.py) prepares every value of every row in
    Python and takes three times as long.
    """
    adapt = connection.ops.adapt_datetimefield_value
    rows = []
    for book in synthetic_books(0, ROWS):
        # As auto_now_add and auto_now would: the moment the row is made.
        stamp = adapt(timezone.now())
        texts = (book.title, book.subtitle, book.author)
        rows.append((*texts, *map(fold, texts), book.isbn, stamp, stamp))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO books_book (title, subtitle, author, title_fold, subtitle_fold,"
            " author_fold, isbn, created, updated) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    with connection.cursor() as cursor:
        cursor.execute(statistics_sql)
        if cursor.description:
            cursor.fetchall()


@contextmanager
def committed_catalogue(django_db_blocker: Any, statistics_sql: str) -> Iterator[None]:
    """The large catalogue, committed once for a module's tests and deleted after them.

    Filling it is most of these tests' time, and they only read it: each runs
    in a transaction of its own that leaves the committed rows as they are.
    """
    with django_db_blocker.unblock():
        fill_catalogue(statistics_sql)
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            Book.objects.all().delete()


def page_query(client: APIClient, params: dict[str, str]) -> str:
    """The SQL of the query that fetched the page for ``params`` (not the count's)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("api:book-list"), params)
    assert response.status_code == status.HTTP_200_OK, response.data
    (query,) = [
        sql
        for sql in (q["sql"] for q in captured.captured_queries)
        if "LIMIT" in sql.upper() and "COUNT(" not in sql.upper()
    ]
    return query


def listed_books(params: dict[str, str]) -> QuerySet:
    """The books in the order that the list's own view gives them for ``params``."""
    view_function: Any = resolve(reverse("api:book-list")).func
    view = view_function.cls(**view_function.initkwargs)
    view.request = Request(APIRequestFactory().get(reverse("api:book-list"), params))
    view.format_kwarg = None
    view.action = "list"  # the list's filters and ordering apply to the list only
    return cast(QuerySet, view.filter_queryset(view.get_queryset()))


def deep_cursor(params: dict[str, str]) -> dict[str, str]:
    """``params`` with the cursor of the page CURSOR_DEPTH books into their order, as the
    ``next`` link of the page before holds it."""
    books = listed_books(params)
    return {**params, "cursor": cursor_after(books, books[CURSOR_DEPTH - 1])}


def cursor_queries(client: APIClient, params: dict[str, str]) -> list[str]:
    """The SQL of the queries that a cursor page runs: the page, read one row ahead, and
    the LIMIT 1 that decides whether it has a ``previous``."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("api:book-list"), params)
    assert response.status_code == status.HTTP_200_OK, response.data
    assert len(response.data["results"]) == 20
    queries = [q["sql"] for q in captured.captured_queries if "LIMIT" in q["sql"].upper()]
    assert len(queries) == 2, queries
    return queries
