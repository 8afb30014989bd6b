"""One meaning of "any case": search, ``?author=`` and ordering fold text the same way on
every database (books/folding.py), with accented, German, Turkish and Greek text.

Run on whichever database DATABASE_URL names; the template's tests run it on
every database it offers. README.md, "Search and any case".
"""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from books.folding import FOLDED_LENGTH, fold
from books.models import Book
from tests.factories import BookFactory

LIST_URL = reverse("api:book-list")
# Title and author of each book; the list's fixture adds them in this order.
BOOKS = [
    ("apple", "Anon"),
    ("zebra", "Anon"),
    ("Zürich", "Max Frisch"),
    ("Äpfel", "Anon"),
    ("Émile", "Émile Zola"),
    ("Ölfass", "Anon"),
    ("Straße", "Karl Straßmann"),
    ("İstanbul", "Orhan Pamuk"),
    ("Kırık", "Anon"),
    ("ΟΔΥΣΣΕΑΣ", "ΟΜΗΡΟΣ"),
    ("¡Hola!", "Isabel Allende"),
]
# By code point of the folded titles: apfel, apple, emile, istanbul, kırık,
# olfass, strasse, zebra, zurich, ¡hola!, οδυσσεασ ("ı" is a letter after
# "i"). A language-aware collation would put "¡hola!" first: only a binary
# one gives this order.
TITLE_ORDER = [
    "Äpfel",
    "apple",
    "Émile",
    "İstanbul",
    "Kırık",
    "Ölfass",
    "Straße",
    "zebra",
    "Zürich",
    "¡Hola!",
    "ΟΔΥΣΣΕΑΣ",
]


@pytest.fixture
def catalogue(db: None) -> None:
    for title, author in BOOKS:
        BookFactory.create(title=title, subtitle="", author=author)


def titles(response: Any) -> list[str]:
    assert response.status_code == status.HTTP_200_OK, response.data
    return [book["title"] for book in response.data["results"]]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Émile", "emile"),
        ("ÉMILE", "emile"),
        ("Zürich", "zurich"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("ẞ", "ss"),
        ("İstanbul", "istanbul"),
        ("ISTANBUL", "istanbul"),
        ("Kırık", "kırık"),
        ("ΟΔΥΣΣΕΑΣ", "οδυσσεασ"),
        ("οδυσσεας", "οδυσσεασ"),
        ("Ὀδύσσεια", "οδυσσεια"),
        ("ﬁne", "fine"),
        ("\uff26\uff55\uff4c\uff4c", "full"),  # fullwidth "Full"
        ("e\u0301mile", "emile"),
    ],
)
def test_fold_drops_case_accents_and_compatibility_forms(text: str, folded: str) -> None:
    """Folding is Unicode case folding without the marks: one spelling per word."""
    assert fold(text) == folded


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("émile", ["Émile"]),
        ("EMILE", ["Émile"]),
        ("emile", ["Émile"]),
        ("zola", ["Émile"]),
        ("zurich", ["Zürich"]),
        ("ZÜRICH", ["Zürich"]),
        ("apfel", ["Äpfel"]),
        ("ÖLFASS", ["Ölfass"]),
        ("strasse", ["Straße"]),
        ("STRASSE", ["Straße"]),
        ("straß", ["Straße"]),
        ("istanbul", ["İstanbul"]),
        ("İSTANBUL", ["İstanbul"]),
        ("ISTANBUL", ["İstanbul"]),
        ("kırık", ["Kırık"]),
        ("οδυσσεας", ["ΟΔΥΣΣΕΑΣ"]),
        ("οδυσσεασ", ["ΟΔΥΣΣΕΑΣ"]),
        ("Οδυσσέας", ["ΟΔΥΣΣΕΑΣ"]),
        ("ομηρος", ["ΟΔΥΣΣΕΑΣ"]),
        ("zürich émile", []),
        ("pamuk istanbul", ["İstanbul"]),
    ],
)
def test_search_folds_the_same_on_every_database(
    api_client: APIClient, search: str, expected: list[str]
) -> None:
    """Case and accents never matter, nor ß against ss, nor a Greek final sigma; every
    word must match (in the title, subtitle or author)."""
    assert titles(api_client.get(LIST_URL, {"search": search})) == expected


@pytest.mark.usefixtures("catalogue")
def test_dotless_i_is_a_letter_of_its_own(api_client: APIClient) -> None:
    """Turkish "ı" is not "i" with its dot removed: Unicode's case folding keeps them
    apart (its Turkish rules would fold "I" to "ı" and break every other language)."""
    assert titles(api_client.get(LIST_URL, {"search": "kirik"})) == []
    assert titles(api_client.get(LIST_URL, {"search": "KIRIK"})) == []


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("author", "expected"),
    [
        ("zola", ["Émile"]),
        ("ÉMILE", ["Émile"]),
        ("emile", ["Émile"]),
        ("strassmann", ["Straße"]),
        ("FRISCH", ["Zürich"]),
        ("ομηρος", ["ΟΔΥΣΣΕΑΣ"]),
        ("ΌΜΗΡΟΣ", ["ΟΔΥΣΣΕΑΣ"]),
        ("straße", []),
    ],
)
def test_author_filter_folds_the_same_on_every_database(
    api_client: APIClient, author: str, expected: list[str]
) -> None:
    """?author= matches part of the folded name, as search does."""
    assert titles(api_client.get(LIST_URL, {"author": author})) == expected


@pytest.mark.usefixtures("catalogue")
def test_a_term_of_accents_alone_filters_nothing(api_client: APIClient) -> None:
    """A combining accent folds to nothing: search and ?author= then match every book,
    as an empty term does, rather than none."""
    everything = titles(api_client.get(LIST_URL))
    assert titles(api_client.get(LIST_URL, {"search": "\u0301"})) == everything
    assert titles(api_client.get(LIST_URL, {"author": "\u0301"})) == everything


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", TITLE_ORDER),
        ("title", TITLE_ORDER),
        ("-title", TITLE_ORDER[::-1]),
    ],
)
def test_title_order_is_the_same_on_every_database(
    api_client: APIClient, ordering: str, expected: list[str]
) -> None:
    """Folded titles sorted by code point: one order everywhere, whatever the collation."""
    assert titles(api_client.get(LIST_URL, {"ordering": ordering})) == expected


@pytest.mark.usefixtures("catalogue")
def test_author_order_is_the_same_on_every_database(api_client: APIClient) -> None:
    """Authors sort folded too, ties by primary key ("Anon" five times, in the order added)."""
    expected = ["apple", "zebra", "Äpfel", "Ölfass", "Kırık", "Émile", "¡Hola!", "Straße"]
    expected += ["Zürich", "İstanbul", "ΟΔΥΣΣΕΑΣ"]
    assert titles(api_client.get(LIST_URL, {"ordering": "author"})) == expected


@pytest.mark.django_db
def test_saving_refolds_and_bulk_create_folds() -> None:
    """The copies follow their source on every save and in bulk_create."""
    book = BookFactory.create(title="Straße", subtitle="Erster Teil", author="Émile")
    assert (book.title_fold, book.subtitle_fold, book.author_fold) == (
        "strasse",
        "erster teil",
        "emile",
    )
    book.title = "ΟΔΥΣΣΕΑΣ"
    book.save()
    assert Book.objects.values_list("title_fold", flat=True).get(pk=book.pk) == "οδυσσεασ"

    # Not every database gives bulk_create's rows their primary key: find it by its ISBN.
    (bulk,) = Book.objects.bulk_create([BookFactory.build(title="Zürich")])
    assert Book.objects.values_list("title_fold", flat=True).get(isbn=bulk.isbn) == "zurich"


@pytest.mark.django_db
def test_a_title_that_folds_longer_than_its_copy_is_cut_to_fit() -> None:
    """250 ligatures fold to 750 letters; the copy keeps the first FOLDED_LENGTH, and the
    database (a strict one refuses a longer value) stores it."""
    book = BookFactory.create(title="ﬃ" * 250)

    stored = Book.objects.values_list("title_fold", flat=True).get(pk=book.pk)
    assert stored == "ffi" * (FOLDED_LENGTH // 3)


@pytest.mark.usefixtures("catalogue")
def test_search_writes_no_binary_like(api_client: APIClient) -> None:
    """The folded columns' binary collation makes a plain ``LIKE`` exact: search and
    ?author= write no ``LIKE BINARY``, which some servers deprecate with a warning."""
    with CaptureQueriesContext(connection) as captured:
        found = titles(api_client.get(LIST_URL, {"search": "strasse", "author": "karl"}))
    assert found == ["Straße"]
    searches = [query["sql"] for query in captured.captured_queries if "LIKE" in query["sql"]]
    assert searches
    assert [sql for sql in searches if "LIKE BINARY" in sql] == []


def test_the_schema_says_what_any_case_means(api_client: APIClient) -> None:
    """Clients read the folding rules, and the Turkish exception, where they read the
    parameters."""
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/books/"]["get"]["parameters"]
    described = {parameter["name"]: parameter["description"] for parameter in parameters}

    for name in ("search", "author"):
        assert '`strasse` "Straße"' in described[name]
        assert "dotless `ı`" in described[name]
    assert "by code point: the same order on every database" in described["ordering"]
