"""The book list's requests on SQLite are answered from indexes where one can serve.

20,000 books and fresh statistics, then each request's page query, captured
from a real request, explained: orderings read their page from an index
without a temporary B-tree; exact and range filters use an index. A
substring match (search, the author filter) cannot use one here: it walks
the order's index until the page is full. README.md, "Large catalogues".
"""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.plans import (
    CURSOR_ORDERINGS,
    FILTERS,
    ORDERINGS,
    committed_catalogue,
    cursor_queries,
    deep_cursor,
    page_query,
)


@pytest.fixture(scope="module")
def large_catalogue(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with committed_catalogue(django_db_blocker, "ANALYZE"):
        yield


def plan(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [row[3] for row in cursor.fetchall()]


def reads_the_table(details: list[str]) -> bool:
    """A SCAN or SEARCH step with no index (``SCAN books_book`` alone)."""
    return any(step.startswith(("SCAN", "SEARCH")) and "USING" not in step for step in details)


@pytest.mark.usefixtures("large_catalogue", "db")
def test_orderings_read_their_page_from_an_index(api_client: APIClient) -> None:
    """Every ordering (and a later page) reads an index, with no temporary B-tree."""
    plans = {name: plan(page_query(api_client, params)) for name, params in ORDERINGS.items()}

    sorted_or_scanned = {
        name: details
        for name, details in plans.items()
        if reads_the_table(details) or any("TEMP B-TREE" in step for step in details)
    }
    assert sorted_or_scanned == {}


@pytest.mark.usefixtures("large_catalogue", "db")
def test_filters_use_indexes(api_client: APIClient) -> None:
    """The ISBN and date filters, and the author filter's order, come from an index."""
    plans = {name: plan(page_query(api_client, params)) for name, params in FILTERS.items()}

    assert {name: details for name, details in plans.items() if reads_the_table(details)} == {}
    # SQLite names the unique constraint's index itself (sqlite_autoindex_...).
    assert any("USING INDEX" in step and "(isbn=?)" in step for step in plans["isbn"])


@pytest.mark.usefixtures("large_catalogue", "db")
def test_deep_cursor_pages_search_a_range_of_an_index(api_client: APIClient) -> None:
    """A cursor page 15,000 books in, in every ordering: the page and its ``previous`` check
    each SEARCH the order's index from the cursor's position (a range, not a SCAN from the
    start), with no temporary B-tree."""
    plans = {
        name: [plan(sql) for sql in cursor_queries(api_client, deep_cursor(params))]
        for name, params in CURSOR_ORDERINGS.items()
    }

    unbounded = {
        name: details
        for name, details in plans.items()
        if any(
            not any(step.startswith("SEARCH") and "USING" in step for step in query)
            or reads_the_table(query)
            or any("TEMP B-TREE" in step for step in query)
            for query in details
        )
    }
    assert unbounded == {}
