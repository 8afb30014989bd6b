"""Imports: a file of books sent to /api/v1/imports/, checked, queued and run by the worker."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from books.models import Book
from imports.models import ImportJob
from imports.tasks import import_books
from tests.factories import BookFactory

IMPORTS_URL = reverse("api:import-list")
HEADER = "title,subtitle,author,isbn"


def upload(text: str, name: str = "books.csv", content_type: str = "text/csv") -> Any:
    return SimpleUploadedFile(name, text.encode(), content_type=content_type)


def books_csv(*rows: str) -> Any:
    return upload("\n".join([HEADER, *rows]) + "\n")


def send(client: APIClient, file: Any) -> Any:
    return client.post(IMPORTS_URL, {"file": file}, format="multipart")


def run_worker() -> None:
    """Run every queued task, as `python manage.py worker` does, then return."""
    call_command("worker", "--batch", "--no-startup-delay")


@pytest.mark.django_db(transaction=True)
def test_import_is_queued_then_run_by_the_worker_row_by_row(staff_client: APIClient) -> None:
    """The file is queued (202, its URL in Location) and imported by the worker: new books are
    created, ISBNs already in the catalogue or earlier in the file count as present, and
    invalid rows are counted and reported with their line and errors."""
    BookFactory.create(isbn="9780441172719")
    response = send(
        staff_client,
        books_csv(
            "Dune,,Frank Herbert,978-0-441-17271-9",
            "Data Processing,,Anonymous,978-0-306-40615-7",
            "Data Processing again,,Anonymous,0-306-40615-2",
            ",,Nobody,978-0-306-40615-8",
            "",
        ),
    )
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert response.data["status"] == "queued"
    assert response["Location"] == response.data["url"]
    assert not Book.objects.filter(isbn="9780306406157").exists()

    run_worker()
    job = staff_client.get(response["Location"]).data

    assert job["status"] == "succeeded", job["failure"]
    assert (job["rows_total"], job["rows_done"]) == (4, 4)
    assert (job["created_count"], job["present_count"], job["invalid_count"]) == (1, 2, 1)
    assert job["invalid_rows"] == [
        {
            "row": 5,
            "errors": {
                "title": ["This field may not be blank."],
                "isbn": [
                    "This is not a valid ISBN: check the digits, the last one is a check digit."
                ],
            },
        }
    ]
    assert Book.objects.get(isbn="9780306406157").title == "Data Processing"
    result = import_books.get_result(ImportJob.objects.get().task_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"created": 1, "already_present": 2, "invalid": 1}


@pytest.mark.django_db
def test_json_lines_import_reports_lines_that_are_no_book(staff_client: APIClient) -> None:
    """A JSON Lines file imports its objects; a line of bad JSON or no object is an invalid row."""
    lines = [
        '{"title": "Dune", "author": "Frank Herbert", "isbn": "9780441172719"}',
        "not json",
        "[1, 2]",
    ]
    response = send(staff_client, upload("\n".join(lines), "books.jsonl", "application/jsonl"))
    assert response.status_code == status.HTTP_202_ACCEPTED

    import_books.call(response.data["id"])
    job = ImportJob.objects.get()

    assert (job.status, job.created_count, job.invalid_count) == ("succeeded", 1, 2)
    assert [row["row"] for row in job.invalid_rows] == [2, 3]
    assert job.invalid_rows[1]["errors"] == {"row": ["Not a book: not a JSON object."]}


@pytest.mark.django_db
def test_import_run_again_resumes_after_the_rows_it_committed(staff_client: APIClient) -> None:
    """A task whose worker died runs again: it skips the rows already done and creates each
    book once, so its counts are those of one run."""
    response = send(
        staff_client,
        books_csv("Dune,,Frank Herbert,978-0-441-17271-9", "Data,,Anon,978-0-306-40615-7"),
    )
    import_books.call(response.data["id"])
    job = ImportJob.objects.get()
    # As if the worker had died after the first row's batch had committed.
    job.status, job.rows_done, job.created_count = ImportJob.Status.RUNNING, 1, 1
    job.save()
    Book.objects.filter(isbn="9780306406157").delete()

    import_books.call(job.pk)
    job.refresh_from_db()

    assert (job.status, job.attempts, job.rows_done, job.created_count) == ("succeeded", 2, 2, 2)
    assert Book.objects.filter(isbn="9780306406157").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("some notes", "notes.txt", "text/plain"), "'notes.txt' is neither CSV nor JSON"),
        (upload(" \n"), "The file is empty"),
        (upload("title,author\nDune,Frank Herbert\n"), "The CSV header has no isbn column"),
        (upload(HEADER + "\n"), "The file has a header but no rows of books."),
        # Python's csv module refuses a field over 128 KiB.
        (upload(f"{HEADER}\n{'x' * 200_000}\n"), "The file is not valid CSV: field larger"),
        (
            SimpleUploadedFile("books.csv", b"title,author,isbn\n\xff\n"),
            "byte 0xff at offset 18 is not UTF-8",
        ),
        (upload("nope", "books.jsonl"), "Line 1 is not JSON Lines"),
        (upload('{"title": "Dune"}', "books.jsonl"), "Line 1 has no author, isbn key"),
    ],
    ids=[
        "not-csv-or-jsonl",
        "empty",
        "no-isbn-column",
        "header-only",
        "bad-csv",
        "not-utf8",
        "bad-first-line",
        "missing-keys",
    ],
)
def test_a_file_that_cannot_be_imported_is_a_400_saying_why(
    staff_client: APIClient, file: Any, message: str
) -> None:
    """A file that is no CSV or JSON Lines of books is refused whole; nothing is queued."""
    response = send(staff_client, file)

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "invalid"
    assert message in response.data["errors"]["file"][0]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused(staff_client: APIClient, settings: Any) -> None:
    """A file larger than DJANGO_IMPORT_MAX_BYTES is a 400 naming the limit."""
    settings.IMPORT_MAX_BYTES = 10

    response = send(staff_client, books_csv("Dune,,Frank Herbert,978-0-441-17271-9"))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "an import takes at most 10" in response.data["errors"]["file"][0]


@pytest.mark.django_db
def test_imports_are_for_staff_only(auth_client: APIClient) -> None:
    """A signed-in user who is not staff can neither send nor list imports."""
    assert send(auth_client, books_csv()).status_code == status.HTTP_403_FORBIDDEN
    assert auth_client.get(IMPORTS_URL).status_code == status.HTTP_403_FORBIDDEN
