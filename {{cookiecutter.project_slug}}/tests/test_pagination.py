"""Pages of the book list: counts stay bounded however large the table grows."""

import pytest
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from api_core import pagination
from api_core.count_estimate import estimated_count
from books.models import Book
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")


def test_count_is_exact_up_to_the_limit(api_client: APIClient) -> None:
    """Below EXACT_COUNT_LIMIT matches, ``count`` is exact and says so."""
    BookFactory.create_batch(3)

    data = api_client.get(LIST_URL).data

    assert (data["count"], data["count_is_exact"]) == (3, True)


def test_count_beyond_the_limit_comes_from_the_planner(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond the limit, a database whose planner estimates rows answers with its estimate,
    never below what was counted; one whose planner gives none counts exactly."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 4)
    BookFactory.create_batch(12)

    data = api_client.get(LIST_URL, {"page_size": 5}).data

    if estimated_count(Book.objects.all()) is None:
        assert (data["count"], data["count_is_exact"]) == (12, True)
    else:
        assert data["count_is_exact"] is False
        assert data["count"] >= 5


@pytest.fixture
def low_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counts beyond 4 rows are estimated, and the estimate is 6 whatever the rows."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 4)
    monkeypatch.setattr(pagination, "estimated_count", lambda queryset: 6)


@pytest.mark.usefixtures("low_estimate")
def test_a_low_estimate_leaves_every_page_reachable(api_client: APIClient) -> None:
    """With 12 books estimated at 6, pages of 5 still reach the 12th book; the page after
    the last is empty, not an error."""
    BookFactory.create_batch(12)

    first = api_client.get(LIST_URL, {"page_size": 5}).data
    last = api_client.get(LIST_URL, {"page_size": 5, "page": 3})
    after = api_client.get(LIST_URL, {"page_size": 5, "page": 4})

    assert (first["count"], first["count_is_exact"]) == (6, False)
    assert last.status_code == status.HTTP_200_OK
    assert len(last.data["results"]) == 2
    assert after.status_code == status.HTTP_200_OK
    assert after.data["results"] == []


@pytest.mark.usefixtures("low_estimate")
@pytest.mark.parametrize("page", ["0", "two"])
def test_page_zero_and_words_are_refused(api_client: APIClient, page: str) -> None:
    """Page numbers below 1 or not numbers are 404s, with an estimated count too."""
    BookFactory.create_batch(6)

    response = api_client.get(LIST_URL, {"page": page})

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.data["code"] == "not_found"
