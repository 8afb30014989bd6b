"""Cursor pages of the book list (``?cursor=``): every book once, whichever way and order."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from api_core.pagination import CURSOR_SALT, KeysetPagination, cursor_after
from books.models import Book
from tests.factories import BookFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")
ORDERINGS = ["", "title", "-title", "author", "-author", "created", "-created", "title,-created"]


@pytest.fixture
def tied_books() -> list[int]:
    """13 books whose titles, authors and creation times tie in threes and fours, in
    different cases, so that only the primary key tells some of them apart."""
    titles = ["Dune", "dune", "DUNE", "Emma", "emma"]
    authors = ["Le Guin", "le guin", "Herbert", "HERBERT"]
    start = timezone.now()
    books = [BookFactory.create(title=titles[n % 5], author=authors[n % 4]) for n in range(13)]
    for n, book in enumerate(books):
        # auto_now_add sets `created` on save; an update sets the ties.
        Book.objects.filter(pk=book.pk).update(created=start + timedelta(seconds=n % 3))
    return [book.pk for book in books]


def walk(client: APIClient, params: dict[str, Any], link: str = "next") -> list[dict]:
    """Every page from the first one asked for, by its ``next`` (or ``previous``) links."""
    pages = [client.get(LIST_URL, params).json()]
    while pages[-1][link] is not None:
        assert len(pages) < 100, f"{link} never ended"
        pages.append(client.get(pages[-1][link]).json())
    return pages


def ids(pages: list[dict]) -> list[int]:
    return [book["id"] for page in pages for book in page["results"]]


def in_one_page(client: APIClient, ordering: str) -> list[int]:
    """The list in the order that numbered pages give it: all of it on one page."""
    data = client.get(LIST_URL, {"ordering": ordering, "page_size": "100"}).json()
    assert data["next"] is None
    return [book["id"] for book in data["results"]]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_walking_next_gives_every_book_once_in_the_list_order(
    api_client: APIClient, tied_books: list[int], ordering: str
) -> None:
    """Following ``next`` from an empty cursor gives every book once, in the order of the
    numbered pages, ties and all; every page is full but the last, which has no ``next``."""
    pages = walk(api_client, {"cursor": "", "ordering": ordering, "page_size": "3"})

    assert ids(pages) == in_one_page(api_client, ordering)
    assert sorted(ids(pages)) == sorted(tied_books)
    assert [len(page["results"]) for page in pages] == [3, 3, 3, 3, 1]
    assert [page["previous"] is None for page in pages] == [True, False, False, False, False]
    assert all(set(page) == {"next", "previous", "results"} for page in pages)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_walking_previous_from_the_last_page_gives_the_same_pages_back(
    api_client: APIClient, tied_books: list[int], ordering: str
) -> None:
    """From the last page, ``previous`` leads back through the same pages to the first,
    which has no ``previous``; each has ``next`` again."""
    forward = walk(api_client, {"cursor": "", "ordering": ordering, "page_size": "3"})

    back = [forward[-1]]
    while back[-1]["previous"] is not None:
        assert len(back) < 100, "previous never ended"
        back.append(api_client.get(back[-1]["previous"]).json())

    assert [page["results"] for page in reversed(back)] == [page["results"] for page in forward]
    assert back[-1]["previous"] is None
    assert all(page["next"] is not None for page in back[1:])


def test_a_full_last_page_has_no_next(api_client: APIClient) -> None:
    """6 books in pages of 3: the second page is the last, with no ``next`` to an empty one."""
    BookFactory.create_batch(6)

    pages = walk(api_client, {"cursor": "", "page_size": "3"})

    assert [len(page["results"]) for page in pages] == [3, 3]


def test_an_empty_list_has_one_empty_page(api_client: APIClient) -> None:
    data = api_client.get(LIST_URL, {"cursor": ""}).json()

    assert data == {"next": None, "previous": None, "results": []}


def test_filters_and_search_apply_to_cursor_pages(api_client: APIClient) -> None:
    """A cursor page lists what the filters let through, as a numbered page does."""
    BookFactory.create_batch(4, author="Ursula Le Guin")
    BookFactory.create_batch(3, author="Frank Herbert")

    pages = walk(api_client, {"cursor": "", "author": "le guin", "page_size": "3"})

    assert len(ids(pages)) == 4
    assert all(page["next"] is None or "author=le+guin" in page["next"] for page in pages)


def test_rows_gone_from_the_cursor_position_leave_the_walk_exact(api_client: APIClient) -> None:
    """The cursor holds a position, not a row: once the books after it are deleted, the page
    is empty with no ``next``, and its ``previous`` leads to the books before the position."""
    books = BookFactory.create_batch(5)
    first = api_client.get(LIST_URL, {"cursor": "", "page_size": "2"}).json()
    Book.objects.exclude(pk__in=[book["id"] for book in first["results"]]).delete()

    empty = api_client.get(first["next"]).json()
    before = api_client.get(empty["previous"]).json()

    assert (empty["results"], empty["next"]) == ([], None)
    assert [book["id"] for book in before["results"]] == [b.pk for b in books[:2]]
    assert before["previous"] is None
    assert before["next"] is None  # nothing remains past those two


def test_next_appears_once_rows_are_added_past_the_last_page(api_client: APIClient) -> None:
    """``next`` is decided at each request: once a book is added past the last page, that
    page asked again has a ``next``, which leads to the new book."""
    BookFactory.create_batch(4, title="Alpha")
    pages = walk(api_client, {"cursor": "", "page_size": "2"})
    BookFactory.create(title="Zulu")

    last = api_client.get(pages[0]["next"]).json()

    assert last["next"] is not None
    assert api_client.get(last["next"]).json()["results"][0]["title"] == "Zulu"


def test_page_size_applies_and_is_bounded(api_client: APIClient) -> None:
    """``page_size`` sets a cursor page's size, and its links keep it; out of bounds, a 400."""
    BookFactory.create_batch(7)

    pages = walk(api_client, {"cursor": "", "page_size": "5"})
    refused = api_client.get(LIST_URL, {"cursor": "", "page_size": "101"})

    assert [len(page["results"]) for page in pages] == [5, 2]
    assert "page_size=5" in pages[0]["next"]
    assert refused.status_code == status.HTTP_400_BAD_REQUEST
    assert refused.json()["errors"] == {"page_size": ["A whole number from 1 to 100."]}


def refusal(response: Any) -> str:
    """The one message of a 400 about ``cursor``, in the API's error shape."""
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    (message,) = body["errors"]["cursor"]
    return str(message)


def cursor_of(link: str) -> str:
    (cursor,) = parse_qs(urlsplit(link).query)["cursor"]
    return cursor


@pytest.mark.parametrize("cursor", ["garbage", "e30:1tZ8l9:abc", "\u00e9", " "])
def test_a_cursor_the_api_did_not_make_is_refused(api_client: APIClient, cursor: str) -> None:
    """Garbage is a 400 naming ``cursor`` and the way on: the links, or an empty cursor."""
    message = refusal(api_client.get(LIST_URL, {"cursor": cursor}))

    assert "`next` or `previous` link" in message
    assert "empty cursor" in message


def test_an_altered_cursor_is_refused(api_client: APIClient) -> None:
    """Cursors are signed: changing one character of a real one makes it garbage."""
    BookFactory.create_batch(3)
    link = api_client.get(LIST_URL, {"cursor": "", "page_size": "1"}).json()["next"]
    cursor = cursor_of(link)
    altered = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]

    assert "`next` or `previous` link" in refusal(api_client.get(LIST_URL, {"cursor": altered}))


def test_a_signed_cursor_of_another_list_is_refused(api_client: APIClient) -> None:
    """A cursor of another list (signed alike) is not taken for a position in this one."""
    other = signing.dumps(
        {"list": "auth.User", "order": ["pk"], "values": [1]}, salt=CURSOR_SALT, compress=True
    )

    assert "from another list" in refusal(api_client.get(LIST_URL, {"cursor": other}))


def test_a_cursor_used_with_another_ordering_is_refused(api_client: APIClient) -> None:
    """A position in the title order means nothing in the creation order: a 400 that says
    to keep the ordering, or to start again."""
    BookFactory.create_batch(3)
    link = api_client.get(LIST_URL, {"cursor": "", "page_size": "1"}).json()["next"]

    message = refusal(api_client.get(f"{link}&ordering=-created"))

    assert "another `ordering`" in message
    assert "start again" in message


def test_cursor_and_page_at_once_are_refused(api_client: APIClient) -> None:
    message = refusal(api_client.get(LIST_URL, {"cursor": "", "page": "2"}))

    assert "not both" in message


def test_numbered_pages_are_unchanged(api_client: APIClient) -> None:
    """Without ``cursor``, pages are numbered and counted as before."""
    BookFactory.create_batch(3)

    data = api_client.get(LIST_URL, {"page_size": "2"}).json()

    assert set(data) == {"count", "count_is_exact", "next", "previous", "results"}
    assert data["next"].endswith("page=2&page_size=2")


def test_a_cursor_page_reads_one_query_and_a_later_one_two(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    """No count: the first page is one query, read one row ahead; a page from a cursor adds
    one LIMIT 1 query that makes ``previous`` exact."""
    BookFactory.create_batch(5)
    with django_assert_num_queries(1):
        first = api_client.get(LIST_URL, {"cursor": "", "page_size": "2"}).json()
    with django_assert_num_queries(2):
        api_client.get(first["next"])


def test_the_browsable_api_links_cursor_pages(api_client: APIClient) -> None:
    """The HTML page of a cursor page shows its previous and next links."""
    BookFactory.create_batch(5)
    first = api_client.get(LIST_URL, {"cursor": "", "page_size": "2"}).json()

    page = api_client.get(first["next"], HTTP_ACCEPT="text/html").content.decode()

    assert first["next"].partition("?")[2].replace("&", "&amp;") in page
    assert "Previous" in page
    assert "Next" in page


def keyset_walk(queryset: QuerySet, size: int) -> list[list[int]]:
    """Pages of ``queryset`` by KeysetPagination alone, following ``next``."""
    factory = APIRequestFactory()
    pages: list[list[int]] = []
    cursor: str | None = ""
    while cursor is not None:
        assert len(pages) < 100, "next never ended"
        paginator = KeysetPagination(size, cursor)
        request = Request(factory.get("/users/", {"cursor": cursor}))
        pages.append([user.pk for user in paginator.paginate_queryset(queryset, request)])
        link = paginator.get_next_link()
        cursor = None if link is None else cursor_of(link)
    return pages


@pytest.mark.parametrize(
    ("order", "tie_breaker"),
    [
        (["last_login"], "pk"),
        (["-last_login"], "-pk"),
        ([F("last_login").asc(nulls_first=True)], "pk"),
        ([F("last_login").desc(nulls_last=True)], "-pk"),
        (["-last_login", "username"], "pk"),
    ],
    ids=["asc", "desc", "asc-nulls-first", "desc-nulls-last", "desc-then-username"],
)
def test_nulls_take_their_place_in_the_walk(order: list[Any], tie_breaker: str) -> None:
    """Any order of model fields pages through nulls as the database sorts them, first
    or last, with ties broken by the primary key: every row once, in the queryset's order."""
    moments = [None, datetime(2025, 1, 1, tzinfo=UTC), None, datetime(2025, 1, 2, tzinfo=UTC)]
    for n in range(11):
        UserFactory.create(last_login=moments[n % 4], username=f"reader{n % 3}-{n}")
    queryset = User.objects.order_by(*order)

    pages = keyset_walk(queryset, 3)

    # The primary key breaks ties, in the direction of the last term, as on cursor pages.
    expected = list(queryset.order_by(*order, tie_breaker))
    assert [pk for page in pages for pk in page] == [user.pk for user in expected]
    assert [len(page) for page in pages] == [3, 3, 3, 2]


def test_cursor_after_starts_past_the_row(api_client: APIClient) -> None:
    """cursor_after (for tests and benchmarks) makes the cursor a ``next`` link would hold."""
    books = BookFactory.create_batch(4)
    queryset = Book.objects.all()

    data = api_client.get(LIST_URL, {"cursor": cursor_after(queryset, books[1])}).json()

    assert [book["id"] for book in data["results"]] == [book.pk for book in books[2:]]
    assert data["previous"] is not None
