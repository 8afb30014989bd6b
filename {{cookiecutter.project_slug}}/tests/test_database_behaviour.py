"""Behaviour that depends on the database, checked on whichever one DATABASE_URL names."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.urls import resolve, reverse
from rest_framework import status
from rest_framework.test import APIClient

from books.models import Book
from tests.conftest import client_for
from tests.factories import BookFactory, UserFactory

LIST_URL = reverse("api:book-list")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_isbn_give_one_201_and_one_400(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two requests that both pass validation race to insert; the unique constraint decides.

    The loser gets the same 400 as a sequential duplicate, never a 500.
    """
    view_class: Any = resolve(LIST_URL).func.cls  # type: ignore[attr-defined]
    barrier = threading.Barrier(2, timeout=30)
    validated_create = view_class.perform_create

    def create_together(self: Any, serializer: Any) -> None:
        barrier.wait()  # both requests are validated; neither has inserted yet
        validated_create(self, serializer)

    monkeypatch.setattr(view_class, "perform_create", create_together)
    user = UserFactory.create()
    responses: list[Any] = []

    def post() -> None:
        try:
            client = client_for(user)
            responses.append(
                client.post(LIST_URL, {"title": "Race", "author": "A", "isbn": "9780306406157"})
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    codes = sorted(response.status_code for response in responses)
    assert codes == [status.HTTP_201_CREATED, status.HTTP_400_BAD_REQUEST]
    loser = next(r for r in responses if r.status_code == status.HTTP_400_BAD_REQUEST)
    assert loser.data["errors"] == {"isbn": ["A book with this ISBN already exists."]}
    assert Book.objects.count() == 1


@pytest.mark.django_db
def test_non_ascii_text_round_trips(auth_client: APIClient) -> None:
    """Accents, CJK, right-to-left text and emoji (four UTF-8 bytes) come back exactly as sent."""
    book = {
        "title": "Ἡ Ὀδύσσεια — 東京物語 😀",
        "subtitle": "مرحبا بالعالم",
        "author": "Zoë Ñúñez-Łukasiewicz",
        "isbn": "978-0-306-40615-7",
    }

    created = auth_client.post(LIST_URL, book)
    assert created.status_code == status.HTTP_201_CREATED

    fetched = auth_client.get(reverse("api:book-detail", kwargs={"pk": created.data["id"]}))
    assert {key: fetched.data[key] for key in ("title", "subtitle", "author")} == {
        key: book[key] for key in ("title", "subtitle", "author")
    }
    assert Book.objects.get(title=book["title"]).author == book["author"]


@pytest.fixture
def mixed_case_books(db: None) -> None:
    for title, author in [
        ("banana", "Zed"),
        ("Cherry", "amy"),
        ("apple", "Bob"),
        ("Date", "carl"),
    ]:
        BookFactory.create(title=title, author=author, subtitle="")


def titles(response: Any) -> list[str]:
    assert response.status_code == status.HTTP_200_OK
    return [book["title"] for book in response.data["results"]]


@pytest.mark.usefixtures("mixed_case_books")
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["apple", "banana", "Cherry", "Date"]),
        ("title", ["apple", "banana", "Cherry", "Date"]),
        ("-title", ["Date", "Cherry", "banana", "apple"]),
        ("author", ["Cherry", "apple", "Date", "banana"]),
        ("-author", ["banana", "Date", "apple", "Cherry"]),
    ],
)
def test_ordering_ignores_case_on_every_database(
    api_client: APIClient, ordering: str, expected: list[str]
) -> None:
    """The same order on every database, whatever its collation."""
    assert titles(api_client.get(LIST_URL, {"ordering": ordering})) == expected


@pytest.mark.usefixtures("mixed_case_books")
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("CHERRY", ["Cherry"]),
        ("an", ["banana"]),
        ("A", ["apple", "banana", "Cherry", "Date"]),
        ("AMY", ["Cherry"]),
        ("nothing", []),
    ],
)
def test_search_ignores_case_on_every_database(
    api_client: APIClient, search: str, expected: list[str]
) -> None:
    """Search over title, subtitle and author matches regardless of case."""
    assert titles(api_client.get(LIST_URL, {"search": search})) == expected
