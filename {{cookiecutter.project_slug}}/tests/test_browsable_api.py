"""The API parses JSON, and the browser pages still write: they send JSON too.

The browsable API offers its raw-data form (a JSON body with a media type
chosen from the parsers, sent by its JavaScript with the session's CSRF
token); the docs pages' "Try it out" sends the JSON request bodies the
schema declares, with the same token. The one multipart endpoint, the
imports' file upload, gets an HTML form that a browser posts as it is.
"""

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from books.models import Book
from imports.models import ImportJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:book-list")
IMPORTS_URL = reverse("api:import-list")
NEW_BOOK = {"title": "Dune", "author": "Frank Herbert", "isbn": "978-0-441-17271-9"}
BOOKS_CSV = b"title,subtitle,author,isbn\nDune,,Frank Herbert,978-0-441-17271-9\n"


class Forms(HTMLParser):
    """The page's forms as a browser reads them: attributes, and the inputs of each."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.forms.append({"attrs": dict(attrs), "inputs": []})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"].append(dict(attrs))


def signed_in_browser(user: Any) -> APIClient:
    """A browser session: signed in, and held to Django's CSRF check as browsers are."""
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def page_settings(page: str) -> dict[str, str]:
    """The CSRF header name and token the browsable API's JavaScript sends writes with."""
    header = re.search(r'"csrfHeaderName": "([^"]+)"', page)
    token = re.search(r'"csrfToken": "([^"]+)"', page)
    assert header is not None, "the page names no CSRF header"
    assert token is not None, "the page carries no CSRF token"
    return {"header": header.group(1), "token": token.group(1)}


def test_browsable_api_offers_the_raw_json_form(user: Any) -> None:
    """The book list page has the raw-data form, JSON its only media type, and no HTML form."""
    response = signed_in_browser(user).get(LIST_URL, HTTP_ACCEPT="text/html")

    assert response.status_code == status.HTTP_200_OK
    page = response.content.decode()
    assert 'id="post-generic-content-form"' in page
    select = re.search(r'<select name="_content_type".*?</select>', page, re.DOTALL)
    assert select is not None
    assert re.findall(r'<option value="([^"]+)"', select.group(0)) == ["application/json"]
    assert 'name="_content"' in page
    # The form of one field per input is drawn only when a form parser is configured.
    assert 'id="post-object-form"' not in page


def test_json_post_from_the_browsable_api_creates_a_book(user: Any) -> None:
    """A signed-in session posts JSON with the page's CSRF header, as the raw-data form does."""
    browser = signed_in_browser(user)
    page = browser.get(LIST_URL, HTTP_ACCEPT="text/html").content.decode()
    csrf = page_settings(page)

    without_token = browser.post(LIST_URL, json.dumps(NEW_BOOK), content_type="application/json")
    response = browser.post(
        LIST_URL,
        json.dumps(NEW_BOOK),
        content_type="application/json",
        headers={csrf["header"]: csrf["token"]},
    )

    assert without_token.status_code == status.HTTP_403_FORBIDDEN
    assert response.status_code == status.HTTP_201_CREATED
    assert Book.objects.get().title == NEW_BOOK["title"]


def test_docs_pages_try_it_out_posts_json_with_the_csrf_header(user: Any) -> None:
    """Swagger UI's "Try it out" sends JSON with the page's CSRF header: a book is created.

    The page's start-up script, which adds the header, is served apart (?script),
    since the page's Content-Security-Policy allows no inline script."""
    browser = signed_in_browser(user)
    page = browser.get(reverse("swagger-ui"), {"script": ""}).content.decode()
    sent = re.search(r'request\.headers\["(X-CSRFTOKEN)"\] = "([^"]+)";', page)
    assert sent is not None, "the docs page adds no CSRF header to its requests"
    header, token = sent.groups()

    response = browser.post(
        LIST_URL,
        json.dumps(NEW_BOOK),
        content_type="application/json",
        headers={header: token},
    )

    assert response.status_code == status.HTTP_201_CREATED


def test_form_bodies_are_refused_with_415(auth_client: APIClient) -> None:
    """A form-encoded or multipart body is a 415: the API parses JSON only."""
    form = auth_client.post(LIST_URL, NEW_BOOK, format="multipart")
    urlencoded = auth_client.post(
        LIST_URL, "title=Dune", content_type="application/x-www-form-urlencoded"
    )

    assert form.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    assert urlencoded.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    assert form.data["code"] == "unsupported_media_type"
    assert not Book.objects.exists()


def test_imports_page_has_a_file_form_that_a_browser_posts() -> None:
    """The imports page gives a staff session a multipart form with a file input named
    `file`; posted as a browser posts it (the file and the form's CSRF token), the file
    is queued as an import: 202. Without the token the post is refused."""
    browser = signed_in_browser(UserFactory.create(is_staff=True))
    page = browser.get(IMPORTS_URL, HTTP_ACCEPT="text/html").content.decode()
    form = next(
        form for form in Forms(page).forms if form["attrs"].get("enctype") == "multipart/form-data"
    )
    inputs = {field.get("name"): field for field in form["inputs"]}
    fields = {
        name: field["value"] for name, field in inputs.items() if field.get("type") == "hidden"
    }

    assert form["attrs"]["method"] == "POST"
    assert form["attrs"]["action"] == IMPORTS_URL
    assert inputs["file"]["type"] == "file"
    assert "csrfmiddlewaretoken" in fields

    def upload() -> SimpleUploadedFile:
        return SimpleUploadedFile("books.csv", BOOKS_CSV, content_type="text/csv")

    without_token = browser.post(
        IMPORTS_URL, {"file": upload()}, format="multipart", HTTP_ACCEPT="text/html"
    )
    response = browser.post(
        form["attrs"]["action"],
        {**fields, "file": upload()},
        format="multipart",
        HTTP_ACCEPT="text/html",
    )

    assert without_token.status_code == status.HTTP_403_FORBIDDEN
    assert response.status_code == status.HTTP_202_ACCEPTED
    job = ImportJob.objects.get()
    assert (job.file_name, job.status, job.rows_total) == ("books.csv", "queued", 1)
    assert response["Location"] == reverse("api:import-detail", kwargs={"pk": job.pk})
