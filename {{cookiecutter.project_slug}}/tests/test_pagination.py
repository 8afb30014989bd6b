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


def estimate_of(monkeypatch: pytest.MonkeyPatch, estimate: int) -> None:
    """Counts beyond 4 rows are estimated, and the estimate is ``estimate`` whatever the rows."""
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 4)
    monkeypatch.setattr(pagination, "estimated_count", lambda queryset: estimate)


@pytest.fixture
def low_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """12 books, say, estimated at 6."""
    estimate_of(monkeypatch, 6)


def follow_next(api_client: APIClient, params: dict[str, int]) -> list[dict]:
    """Every page from the first, by its ``next`` links, as a client walks a list."""
    pages = [api_client.get(LIST_URL, params).data]
    while pages[-1]["next"] is not None:
        assert len(pages) < 100, "next never ended"
        pages.append(api_client.get(pages[-1]["next"]).data)
    return pages


@pytest.mark.parametrize("estimate", [6, 10_000], ids=["estimate-too-low", "estimate-too-high"])
def test_next_is_there_exactly_while_another_page_holds_books(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch, estimate: int
) -> None:
    """Whatever the estimate, following ``next`` from the first page gives every book once,
    every page but the last is full, and the last page has no ``next`` and the exact count."""
    estimate_of(monkeypatch, estimate)
    isbns = {book.isbn for book in BookFactory.create_batch(12)}

    pages = follow_next(api_client, {"page_size": 5})

    seen = [book["isbn"] for page in pages for book in page["results"]]
    assert sorted(seen) == sorted(isbns)
    assert [len(page["results"]) for page in pages] == [5, 5, 2]
    assert [page["count_is_exact"] for page in pages] == [False, False, True]
    assert pages[-1]["count"] == 12
    # Never below the rows seen: those of the pages so far and the next page's first.
    assert all(page["count"] > 5 * number for number, page in enumerate(pages[:-1], start=1))
    assert [page["previous"] is None for page in pages] == [True, False, False]


@pytest.mark.usefixtures("low_estimate")
def test_a_full_last_page_has_no_next(api_client: APIClient) -> None:
    """10 books in pages of 5: the second page is full and the last; no empty third page."""
    BookFactory.create_batch(10)

    pages = follow_next(api_client, {"page_size": 5})

    assert [len(page["results"]) for page in pages] == [5, 5]
    assert (pages[-1]["count"], pages[-1]["count_is_exact"]) == (10, True)


@pytest.mark.parametrize("estimate", [6, 10_000], ids=["estimate-too-low", "estimate-too-high"])
def test_a_page_past_the_end_is_a_404_as_with_an_exact_count(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch, estimate: int
) -> None:
    """No empty pages to walk through: past the last page is not found, with an estimated count
    as with an exact one, so no ``previous`` link can point past the end."""
    estimate_of(monkeypatch, estimate)
    BookFactory.create_batch(12)

    last = api_client.get(LIST_URL, {"page_size": 5, "page": 3})
    after = api_client.get(LIST_URL, {"page_size": 5, "page": 4})
    far = api_client.get(LIST_URL, {"page_size": 5, "page": 900})

    assert last.status_code == status.HTTP_200_OK
    assert len(last.data["results"]) == 2
    assert (after.status_code, after.data["code"]) == (status.HTTP_404_NOT_FOUND, "not_found")
    assert far.status_code == status.HTTP_404_NOT_FOUND


def test_page_last_with_an_exact_count_is_the_last_page(api_client: APIClient) -> None:
    """``?page=last`` works while the count is exact."""
    BookFactory.create_batch(7)

    data = api_client.get(LIST_URL, {"page_size": "5", "page": "last"}).data

    assert (len(data["results"]), data["next"], data["count_is_exact"]) == (2, None, True)


@pytest.mark.usefixtures("low_estimate")
def test_page_last_with_an_estimated_count_is_refused_with_the_way_forward(
    api_client: APIClient,
) -> None:
    """With an estimate the last page is unknown: a 404 that says to follow ``next``."""
    BookFactory.create_batch(12)

    response = api_client.get(LIST_URL, {"page_size": "5", "page": "last"})

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert "follow the `next` links" in str(response.data)


@pytest.mark.parametrize("estimated", [False, True], ids=["exact", "estimated"])
@pytest.mark.parametrize("page", ["0", "two", ""])
def test_page_zero_words_and_nothing_are_refused(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch, page: str, estimated: bool
) -> None:
    """Page numbers below 1, not numbers or empty (which DRF would read as 1) are 404s,
    with an exact or an estimated count."""
    if estimated:
        estimate_of(monkeypatch, 6)
    BookFactory.create_batch(6)

    response = api_client.get(LIST_URL, {"page": page})

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.data["code"] == "not_found"
