"""The book list's requests on MySQL/MariaDB are answered from indexes where one can serve.

20,000 books and fresh statistics, then each request's page query, captured
from a real request, explained: orderings read their page from an index
without a filesort; exact and range filters use an index. A substring match
(search, the author filter) cannot use one here: it walks the order's index
until the page is full. README.md, "Large catalogues".
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import BookFactory
from tests.plans import (
    CURSOR_ORDERINGS,
    FILTERS,
    ORDERINGS,
    committed_catalogue,
    cursor_queries,
    deep_cursor,
    page_query,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "mysql",
    reason="explains MySQL's plans; DATABASE_URL names no MySQL/MariaDB database",
)


@pytest.fixture(scope="module")
def large_catalogue(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    # ANALYZE TABLE commits: the catalogue is committed, outside the tests' transactions.
    with committed_catalogue(django_db_blocker, "ANALYZE TABLE books_book"):
        yield


def plan(sql: str) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN FORMAT=TRADITIONAL {sql}")  # a row per table on MySQL too
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@pytest.mark.usefixtures("large_catalogue", "db")
def test_orderings_read_their_page_from_an_index(api_client: APIClient) -> None:
    """Every ordering (and a later page) reads an index, with no filesort."""
    plans = {name: plan(page_query(api_client, params)) for name, params in ORDERINGS.items()}

    sorted_or_scanned = {
        name: rows
        for name, rows in plans.items()
        if any(row["key"] is None or "filesort" in (row["Extra"] or "") for row in rows)
    }
    assert sorted_or_scanned == {}


@pytest.mark.usefixtures("large_catalogue", "db")
def test_filters_use_indexes(api_client: APIClient) -> None:
    """The ISBN and date filters, and the author filter's order, come from an index."""
    plans = {name: plan(page_query(api_client, params)) for name, params in FILTERS.items()}

    scanned = {
        name: rows for name, rows in plans.items() if any(row["key"] is None for row in rows)
    }
    assert scanned == {}
    assert plans["isbn"][0]["key"] == "books_book_isbn_unique"


@pytest.mark.usefixtures("large_catalogue", "db")
def test_deep_cursor_pages_read_a_range_of_an_index(api_client: APIClient) -> None:
    """A cursor page 15,000 books in, in every ordering: the page and its ``previous`` check
    each read a range of an index from the cursor's position (type ``range``), with no
    filesort."""
    plans = {
        name: [plan(sql) for sql in cursor_queries(api_client, deep_cursor(params))]
        for name, params in CURSOR_ORDERINGS.items()
    }

    unbounded = {
        name: queries
        for name, queries in plans.items()
        if any(
            row["type"] != "range" or row["key"] is None or "filesort" in (row["Extra"] or "")
            for rows in queries
            for row in rows
        )
    }
    assert unbounded == {}


@pytest.mark.django_db
def test_a_folded_search_leaves_the_server_nothing_to_warn_about(api_client: APIClient) -> None:
    """MySQL 9 deprecates ``LIKE BINARY`` (Django's ``contains`` here) with a warning: the
    folded columns' search writes plain ``LIKE`` (books/collation.py), so the list's page
    query leaves no warning, on MySQL as on MariaDB."""
    BookFactory.create(title="Straße", author="Karl")
    response = api_client.get("/api/v1/books/", {"search": "strasse", "author": "karl"})
    with connection.cursor() as cursor:
        cursor.execute("SHOW WARNINGS")  # those of the last query: the page's
        warnings = cursor.fetchall()

    assert [book["title"] for book in response.json()["results"]] == ["Straße"]
    assert tuple(warnings) == ()
