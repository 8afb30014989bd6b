"""The books API: every endpoint, its permissions and its errors."""

from typing import Any

import pytest
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from books.models import Book
from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")
NEW_BOOK: dict[str, Any] = {
    "title": "Django for APIs",
    "subtitle": "Build web APIs with Python and Django",
    "author": "William S. Vincent",
    "isbn": "978-0-306-40615-7",
}


def detail_url(book: Book) -> str:
    return reverse("api:book-detail", kwargs={"pk": book.pk})


def test_list_books_is_open_to_everyone(api_client: APIClient) -> None:
    """Anyone can read the catalogue, a page at a time, in title order."""
    BookFactory.create_batch(3)

    response = api_client.get(LIST_URL)

    assert response.status_code == status.HTTP_200_OK
    assert response.data["count"] == 3
    titles = [book["title"] for book in response.data["results"]]
    assert titles == sorted(titles, key=str.lower)


def test_list_books_uses_constant_queries(
    api_client: APIClient, django_assert_num_queries: Any
) -> None:
    """The list costs the same number of queries for 2 books as for 20."""
    BookFactory.create_batch(2)
    with django_assert_num_queries(2):  # the count and the page
        api_client.get(LIST_URL)

    BookFactory.create_batch(18)
    with django_assert_num_queries(2):
        response = api_client.get(LIST_URL)
    assert len(response.data["results"]) == 20


def test_retrieve_book(api_client: APIClient) -> None:
    """One book by id, with every field."""
    book = BookFactory.create()

    response = api_client.get(detail_url(book))

    assert response.status_code == status.HTTP_200_OK
    assert response.data["isbn"] == book.isbn
    assert set(response.data) == {"id", "title", "subtitle", "author", "isbn", "created", "updated"}


def test_retrieve_missing_book_is_404(api_client: APIClient) -> None:
    """An id that does not exist is a JSON 404."""
    response = api_client.get(reverse("api:book-detail", kwargs={"pk": 999_999}))

    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.data == {"status": 404, "code": "not_found", "detail": "Not found."}


def test_create_book_requires_authentication(api_client: APIClient) -> None:
    """An anonymous write is refused with 401, a WWW-Authenticate header and the error shape."""
    response = api_client.post(LIST_URL, NEW_BOOK)

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert response.has_header("WWW-Authenticate")
    assert response.data == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert not Book.objects.exists()


def test_create_book_with_token(auth_client: APIClient) -> None:
    """An authenticated user creates a book; the ISBN comes back normalised."""
    response = auth_client.post(LIST_URL, NEW_BOOK)

    assert response.status_code == status.HTTP_201_CREATED
    assert response.data["isbn"] == "9780306406157"
    assert Book.objects.get().title == NEW_BOOK["title"]


def test_create_book_with_session(user: Any, api_client: APIClient) -> None:
    """A signed-in browser session may write too (the browsable API)."""
    api_client.force_login(user)

    response = api_client.post(LIST_URL, {**NEW_BOOK, "subtitle": ""})

    assert response.status_code == status.HTTP_201_CREATED
    assert response.data["subtitle"] == ""


def test_create_book_subtitle_is_optional(auth_client: APIClient) -> None:
    """A book without a subtitle is fine."""
    payload = {key: value for key, value in NEW_BOOK.items() if key != "subtitle"}

    response = auth_client.post(LIST_URL, payload)

    assert response.status_code == status.HTTP_201_CREATED
    assert response.data["subtitle"] == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"author": ""}, "author"),
        ({"isbn": "9780306406158"}, "isbn"),
        ({"isbn": "12345"}, "isbn"),
        ({"isbn": "978-0-306-40615-7-1234"}, "isbn"),
        ({"title": "x" * 251}, "title"),
        # JSON numbers are not strings, as the schema says, not even all digits.
        ({"title": 1984}, "title"),
        ({"isbn": 9780306406157}, "isbn"),
        # Shapes outside the schema's pattern and length, valid check digits or not.
        ({"isbn": "978--0-306-40615-7"}, "isbn"),
        ({"isbn": "-978-0-306-40615-7"}, "isbn"),
        ({"isbn": "0-0-0-0-0-0-0-0-00"}, "isbn"),
        ({"isbn": "97803064061X7"}, "isbn"),
    ],
)
def test_create_book_rejects_invalid_fields(
    auth_client: APIClient, changes: dict[str, Any], field: str
) -> None:
    """Invalid input gets 400 with an error list under the field's name, and nothing is saved."""
    response = auth_client.post(LIST_URL, {**NEW_BOOK, **changes})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "invalid"
    assert list(response.data["errors"]) == [field]
    assert not Book.objects.exists()


@pytest.mark.parametrize(
    "isbn",
    ["978-0-306-40615-7", "978 0 306 40615 7", "9780306406157", "0-306-40615-2", "080442957x"],
)
def test_create_book_takes_every_isbn_shape_of_the_schema(
    auth_client: APIClient, isbn: str
) -> None:
    """Ten or thirteen characters, a hyphen or space between any two, X in either case."""
    response = auth_client.post(LIST_URL, {**NEW_BOOK, "isbn": isbn})

    assert response.status_code == status.HTTP_201_CREATED, response.data


def test_create_book_rejects_missing_fields(auth_client: APIClient) -> None:
    """Every required field missing is named at once."""
    response = auth_client.post(LIST_URL, {})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert set(response.data["errors"]) == {"title", "author", "isbn"}


def test_create_book_rejects_duplicate_isbn(auth_client: APIClient) -> None:
    """A duplicate ISBN, however hyphenated, is a 400 on the isbn field, never a 500."""
    BookFactory.create(isbn="9780306406157")

    response = auth_client.post(LIST_URL, NEW_BOOK)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data == {
        "status": 400,
        "code": "invalid",
        "detail": "Invalid input.",
        "errors": {"isbn": ["A book with this ISBN already exists."]},
    }


@pytest.mark.parametrize(
    ("first", "second"),
    [("0-306-40615-2", "978-0-306-40615-7"), ("9780306406157", "0 306 40615 2")],
)
def test_isbn10_and_isbn13_of_one_book_create_one_book(
    auth_client: APIClient, first: str, second: str
) -> None:
    """An ISBN-10 and its ISBN-13 are one book: whichever comes second is a duplicate (400)."""
    created = auth_client.post(LIST_URL, {**NEW_BOOK, "isbn": first})
    duplicate = auth_client.post(LIST_URL, {**NEW_BOOK, "isbn": second})

    assert created.status_code == status.HTTP_201_CREATED
    assert duplicate.status_code == status.HTTP_400_BAD_REQUEST
    assert duplicate.data["errors"] == {"isbn": ["A book with this ISBN already exists."]}
    assert list(Book.objects.values_list("isbn", flat=True)) == ["9780306406157"]


def test_book_posted_as_isbn10_reads_back_as_isbn13(auth_client: APIClient) -> None:
    """The response, the stored row and a later read all give the ISBN-13 digits."""
    created = auth_client.post(LIST_URL, {**NEW_BOOK, "isbn": "0-8044-2957-X"})

    read = auth_client.get(detail_url(Book.objects.get(pk=created.data["id"])))

    assert created.status_code == status.HTTP_201_CREATED
    assert created.data["isbn"] == "9780804429573"
    assert read.data["isbn"] == "9780804429573"


def test_create_book_rejects_non_json_body(auth_client: APIClient) -> None:
    """A malformed JSON body is a 400 with a message, not a 500."""
    response = auth_client.post(LIST_URL, "{not json", content_type="application/json")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "parse_error"
    assert "JSON parse error" in response.data["detail"]


def test_update_book(auth_client: APIClient) -> None:
    """PUT replaces every writable field."""
    book = BookFactory.create()

    response = auth_client.put(detail_url(book), NEW_BOOK)

    assert response.status_code == status.HTTP_200_OK
    book.refresh_from_db()
    assert (book.title, book.isbn) == (NEW_BOOK["title"], "9780306406157")


def test_update_book_keeping_its_own_isbn(auth_client: APIClient) -> None:
    """Saving a book with its own ISBN is not a duplicate."""
    book = BookFactory.create()

    response = auth_client.put(
        detail_url(book), {**NEW_BOOK, "isbn": book.isbn, "title": "New title"}
    )

    assert response.status_code == status.HTTP_200_OK


def test_update_book_to_another_books_isbn_is_400(auth_client: APIClient) -> None:
    """Taking another book's ISBN is refused."""
    book, other = BookFactory.create_batch(2)

    response = auth_client.patch(detail_url(book), {"isbn": other.isbn})

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "isbn" in response.data["errors"]


def test_partial_update_book(auth_client: APIClient) -> None:
    """PATCH changes only what it sends."""
    book = BookFactory.create()

    response = auth_client.patch(detail_url(book), {"subtitle": "Second edition"})

    assert response.status_code == status.HTTP_200_OK
    book.refresh_from_db()
    assert book.subtitle == "Second edition"


def test_update_book_requires_authentication(api_client: APIClient) -> None:
    """Anonymous PUT and PATCH are refused and change nothing."""
    book = BookFactory.create()

    assert api_client.put(detail_url(book), NEW_BOOK).status_code == status.HTTP_401_UNAUTHORIZED
    assert api_client.patch(detail_url(book), {"title": "x"}).status_code == (
        status.HTTP_401_UNAUTHORIZED
    )
    book.refresh_from_db()
    assert book.title != "x"


def test_delete_book_as_staff(staff_client: APIClient) -> None:
    """A staff user deletes a book."""
    book = BookFactory.create()

    response = staff_client.delete(detail_url(book))

    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not Book.objects.exists()


def test_delete_book_requires_staff(auth_client: APIClient) -> None:
    """An ordinary signed-in user may not delete: 403, and the book stays."""
    book = BookFactory.create()

    response = auth_client.delete(detail_url(book))

    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert response.data["code"] == "permission_denied"
    assert Book.objects.filter(pk=book.pk).exists()


def test_delete_book_requires_authentication(api_client: APIClient) -> None:
    """An anonymous delete is refused and the book stays."""
    book = BookFactory.create()

    response = api_client.delete(detail_url(book))

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert Book.objects.filter(pk=book.pk).exists()
