"""The library website page."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import BookFactory

pytestmark = pytest.mark.django_db


def test_website_lists_books(client: Client) -> None:
    """The home page shows every book's title, author and ISBN."""
    book = BookFactory.create(title="The Hobbit", author="J. R. R. Tolkien")

    response = client.get(reverse("books:book-list"))

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "The Hobbit" in content
    assert "J. R. R. Tolkien" in content
    assert book.isbn in content


def test_website_links_to_the_api_and_its_docs(client: Client) -> None:
    """The page points readers to the JSON API and its documentation."""
    page = client.get(reverse("books:book-list")).content.decode()

    for name in ("api:book-list", "swagger-ui", "redoc"):
        assert f'href="{reverse(name)}"' in page


def test_website_explains_an_empty_catalogue(client: Client) -> None:
    """With no books, the page says how to load some."""
    response = client.get(reverse("books:book-list"))

    assert "load_sample_books" in response.content.decode()


def test_website_escapes_book_text(client: Client) -> None:
    """Titles are text, never markup."""
    BookFactory.create(title="<script>alert(1)</script>")

    response = client.get(reverse("books:book-list"))

    assert "<script>alert(1)</script>" not in response.content.decode()
