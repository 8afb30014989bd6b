"""The admin's book list: search by title, author or ISBN in either form."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import BookFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:books_book_changelist")


def found(client: Client, term: str) -> list[str]:
    """The titles the admin's book list shows for the search ``term``."""
    response = client.get(CHANGELIST_URL, {"q": term})
    return [book.title for book in response.context["cl"].result_list]


@pytest.mark.parametrize("term", ["0-306-40615-2", "0306406152", "978-0-306-40615-7"])
def test_admin_search_finds_a_book_by_either_isbn_form(admin_client: Client, term: str) -> None:
    """An ISBN-10 or a hyphenated ISBN-13 finds the book, whose stored digits contain neither."""
    BookFactory.create(title="Found", isbn="9780306406157")
    BookFactory.create(title="Other", subtitle="", author="Jane Austen", isbn="9780141439587")

    assert found(admin_client, term) == ["Found"]


def test_admin_search_still_matches_part_of_a_title_or_an_isbn(admin_client: Client) -> None:
    """Terms that are not a whole ISBN keep the substring search."""
    BookFactory.create(title="Dune", isbn="9780441172719")
    # Every field given: a generated author ("Duncan ...") could match by chance.
    BookFactory.create(title="Emma", subtitle="", author="Jane Austen", isbn="9780141439587")

    assert found(admin_client, "dun") == ["Dune"]
    assert found(admin_client, "044117") == ["Dune"]
