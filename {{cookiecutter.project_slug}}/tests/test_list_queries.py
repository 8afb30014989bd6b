"""The book list: filters, search, ordering and pagination."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient

from books.models import Book
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")


def titles(response: Any) -> list[str]:
    assert response.status_code == status.HTTP_200_OK, response.data
    return [book["title"] for book in response.data["results"]]


def test_filter_by_author_ignores_case(api_client: APIClient) -> None:
    """?author= matches part of the name, in any case."""
    BookFactory.create(title="Emma", author="Jane Austen")
    BookFactory.create(title="Dune", author="Frank Herbert")

    assert titles(api_client.get(LIST_URL, {"author": "austen"})) == ["Emma"]


def test_filter_by_isbn_ignores_hyphens(api_client: APIClient) -> None:
    """?isbn= finds the book however the ISBN is hyphenated."""
    BookFactory.create(title="Found", isbn="9780306406157")
    BookFactory.create(title="Other")

    assert titles(api_client.get(LIST_URL, {"isbn": "978-0-306-40615-7"})) == ["Found"]


@pytest.mark.parametrize("isbn", ["0-306-40615-2", "0306406152", "9780306406157"])
def test_filter_by_isbn_finds_a_book_by_either_form(api_client: APIClient, isbn: str) -> None:
    """?isbn= with the ISBN-10 finds the book stored as ISBN-13, and the ISBN-13 finds it too."""
    book = BookFactory.create(title="Found", isbn="0-306-40615-2")
    BookFactory.create(title="Other")

    assert book.isbn == "9780306406157"
    assert titles(api_client.get(LIST_URL, {"isbn": isbn})) == ["Found"]


def test_filter_by_created_range(api_client: APIClient) -> None:
    """?created_after= and ?created_before= bound the date the book was added."""
    old, new = BookFactory.create(title="Old"), BookFactory.create(title="New")
    now = timezone.now()
    Book.objects.filter(pk=old.pk).update(created=now - timedelta(days=10))
    Book.objects.filter(pk=new.pk).update(created=now - timedelta(days=1))

    since = (now - timedelta(days=5)).isoformat()
    until = (now - timedelta(days=5)).isoformat()
    assert titles(api_client.get(LIST_URL, {"created_after": since})) == ["New"]
    assert titles(api_client.get(LIST_URL, {"created_before": until})) == ["Old"]


def test_filter_with_a_bad_date_is_400(api_client: APIClient) -> None:
    """A date that does not parse is a 400 naming the filter."""
    response = api_client.get(LIST_URL, {"created_after": "last tuesday"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.data["errors"]) == ["created"]


@pytest.mark.parametrize(
    "created_after",
    ["2025-01-01T00:00:00-23:41", "0576-10-27T06:16:44.2-18:53", "9999-12-31T23:59:59+05:00"],
)
def test_filter_accepts_any_offset_python_accepts(
    api_client: APIClient, created_after: str
) -> None:
    """Offsets up to 23:59 and far-off years answer (compared in UTC), never a 500."""
    BookFactory.create()

    response = api_client.get(LIST_URL, {"created_after": created_after})

    assert response.status_code == status.HTTP_200_OK


def test_filter_with_a_date_utc_cannot_hold_is_400(api_client: APIClient) -> None:
    """Year 1 at +05:00 is before the first representable UTC instant: a 400, not a 500."""
    response = api_client.get(LIST_URL, {"created_before": "0001-01-01T00:00:00+05:00"})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["errors"] == {"created": ["This date-time is out of range."]}


def test_search_covers_title_subtitle_and_author(api_client: APIClient) -> None:
    """?search= looks in the title, the subtitle and the author."""
    BookFactory.create(title="One", subtitle="", author="Nobody")
    BookFactory.create(title="Two", subtitle="A Dragon's Tale", author="Nobody")
    BookFactory.create(title="Three", subtitle="", author="Dragon Lady")
    BookFactory.create(title="Dragons", subtitle="", author="Nobody")

    assert titles(api_client.get(LIST_URL, {"search": "dragon"})) == ["Dragons", "Three", "Two"]


def test_ordering_by_created_and_stable_default(api_client: APIClient) -> None:
    """?ordering=-created gives the newest first; without it, title order."""
    first, second = BookFactory.create(title="b"), BookFactory.create(title="a")
    Book.objects.filter(pk=first.pk).update(created=timezone.now() - timedelta(hours=1))

    assert titles(api_client.get(LIST_URL, {"ordering": "-created"})) == [
        second.title,
        first.title,
    ]
    assert titles(api_client.get(LIST_URL)) == ["a", "b"]


def test_ordering_ignores_unknown_fields(api_client: APIClient) -> None:
    """An unknown ordering field is ignored, not an error."""
    BookFactory.create_batch(2)

    assert api_client.get(LIST_URL, {"ordering": "isbn"}).status_code == status.HTTP_200_OK


def test_page_size_is_chosen_by_the_client_up_to_100(api_client: APIClient) -> None:
    """?page_size= picks the size of a page, from 1 to 100."""
    BookFactory.create_batch(105)

    assert len(api_client.get(LIST_URL, {"page_size": 7}).data["results"]) == 7
    big = api_client.get(LIST_URL, {"page_size": 100}).data
    assert len(big["results"]) == 100
    assert big["count"] == 105
    assert big["next"].endswith("page=2&page_size=100")


@pytest.mark.parametrize("size", ["101", "0", "-1", "null", "", "7.0", "\u0667"])
def test_a_page_size_outside_1_to_100_is_refused(api_client: APIClient, size: str) -> None:
    """The schema's bounds hold: a page size that is not a whole number from 1 to 100 is a
    400 that says so, not a silently different page."""
    response = api_client.get(LIST_URL, {"page_size": size})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json()["errors"] == {"page_size": ["A whole number from 1 to 100."]}


def test_page_beyond_the_last_is_404(api_client: APIClient) -> None:
    """Asking for a page that does not exist is a JSON 404."""
    response = api_client.get(LIST_URL, {"page": 99})

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.data["code"] == "not_found"
