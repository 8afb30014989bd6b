"""The view sets run the list's filters only where they can change the answer."""

from typing import Any

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def filtersets_built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each FilterSet of the book list built from here on."""
    # The list view's own class, wherever the layout put its module.
    filterset_class: Any = resolve("/api/v1/books/").func.cls.filterset_class  # type: ignore[attr-defined]
    built: list[object] = []
    original = filterset_class.__init__

    def counting(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(filterset_class, "__init__", counting)
    return built


def test_an_item_ignores_the_lists_filters(
    api_client: APIClient, filtersets_built: list[object]
) -> None:
    """An item's URL chooses the row: the list's filters and search neither run nor 404 it."""
    book = BookFactory.create(author="Jane Austen")

    response = api_client.get(f"/api/v1/books/{book.pk}/?author=nobody&search=nothing")

    assert response.status_code == 200
    assert response.json()["id"] == book.pk
    assert filtersets_built == []


def test_a_list_builds_its_filterset_only_when_a_filter_is_named(
    api_client: APIClient, filtersets_built: list[object]
) -> None:
    """The page, its size and the order alone build no FilterSet (and keep the order); a
    filter builds one and filters."""
    BookFactory.create(title="Zebra", author="Jane Austen")
    BookFactory.create(title="Apple", author="Mark Twain")

    plain = api_client.get("/api/v1/books/?page=1&page_size=10&ordering=-title")
    assert [book["title"] for book in plain.json()["results"]] == ["Zebra", "Apple"]
    assert filtersets_built == []

    filtered = api_client.get("/api/v1/books/?author=twain")
    assert [book["title"] for book in filtered.json()["results"]] == ["Apple"]
    assert len(filtersets_built) == 1
