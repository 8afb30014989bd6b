"""What the query-plan tests share: the list requests the API offers, a large catalogue,
and the SQL of the page query that a request runs."""

from datetime import date, timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

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
    """Add ROWS synthetic books, then refresh the planner's statistics with
    ``statistics_sql`` (outside a transaction: some such statements refuse one, or commit)."""
    call_command("load_sample_books", "--synthetic", str(ROWS), stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute(statistics_sql)
        if cursor.description:
            cursor.fetchall()


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
