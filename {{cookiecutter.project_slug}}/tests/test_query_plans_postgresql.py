"""The book list's requests on PostgreSQL are answered from indexes, not by reading the table.

20,000 books and fresh statistics, then each request's page query, captured
from a real request, explained: orderings read their page from an index
without sorting; filters and search (through the trigram indexes) use an
index instead of a sequential scan. README.md, "Large catalogues".
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
    SEARCH,
    committed_catalogue,
    cursor_queries,
    deep_cursor,
    page_query,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="explains PostgreSQL's plans; DATABASE_URL names no PostgreSQL database",
)


@pytest.fixture(scope="module")
def large_catalogue(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    # VACUUM refuses a transaction; it also empties the trigram indexes'
    # pending lists, as autovacuum does after a load.
    with committed_catalogue(django_db_blocker, "VACUUM ANALYZE books_book"):
        yield


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.usefixtures("large_catalogue", "db")
def test_orderings_read_their_page_from_an_index(api_client: APIClient) -> None:
    """Every ordering (and a later page) is an index scan with no sort."""
    plans = {name: plan(page_query(api_client, params)) for name, params in ORDERINGS.items()}

    sorted_or_scanned = {
        name: text
        for name, text in plans.items()
        if "Seq Scan" in text or "Sort" in text or "Index" not in text
    }
    assert sorted_or_scanned == {}


@pytest.mark.usefixtures("large_catalogue", "db")
def test_filters_and_search_use_indexes(api_client: APIClient) -> None:
    """No filter reads the whole table; search reads the trigram indexes of all three
    searched columns."""
    plans = {name: plan(page_query(api_client, params)) for name, params in FILTERS.items()}
    search = plan(page_query(api_client, SEARCH))

    assert {name: text for name, text in plans.items() if "Seq Scan" in text} == {}
    for column in ("title", "subtitle", "author"):
        assert f"books_book_{column}_fold_trgm" in search, search


@pytest.mark.usefixtures("large_catalogue", "db")
def test_deep_cursor_pages_read_a_range_of_an_index(api_client: APIClient) -> None:
    """A cursor page 15,000 books in, in every ordering: the page and its ``previous`` check
    each start the order's index at the cursor's position (an Index Cond, not a walk from
    the start), with no sort and no sequential scan."""
    plans = {
        name: [plan(sql) for sql in cursor_queries(api_client, deep_cursor(params))]
        for name, params in CURSOR_ORDERINGS.items()
    }

    unbounded = {
        name: texts
        for name, texts in plans.items()
        if any("Seq Scan" in text or "Sort" in text or "Index Cond" not in text for text in texts)
    }
    assert unbounded == {}
