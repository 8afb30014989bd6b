"""Catalogue imports: the file checks before anything is queued, and the task's results."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.tasks import TaskResultStatus, default_task_backend
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from rest_framework import status
from rest_framework.test import APIClient

from background import stopping
from books.models import Book
from imports import tasks
from imports.models import ImportJob
from tests.factories import BookFactory, isbn13

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:import-list")
HEADER = "title,subtitle,author,isbn"


def csv_file(*lines: str, name: str = "books.csv", header: str = HEADER) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join([header, *lines]).encode(), "text/csv")


def book_lines(count: int, start: int = 0) -> list[str]:
    return [f"Book {n},,Author {n},{isbn13(f'978{n:09d}')}" for n in range(start, start + count)]


def send(client: APIClient, upload: SimpleUploadedFile) -> Any:
    return client.post(LIST_URL, {"file": upload}, format="multipart")


@pytest.fixture
def imported(run_worker: Callable[[], None]) -> Callable[[APIClient, Any], dict[str, Any]]:
    """Run the worker for an accepted import; the import as the API then shows it."""

    def run(client: APIClient, response: Any) -> dict[str, Any]:
        assert response.status_code == status.HTTP_202_ACCEPTED, response.data
        run_worker()
        job = client.get(response["Location"])
        assert job.status_code == status.HTTP_200_OK
        return dict(job.data)

    return run


def test_import_is_accepted_queued_and_run_by_the_worker(
    staff_client: APIClient, imported: Any
) -> None:
    """A CSV file gets 202 with the import's Location; the worker imports every valid row and
    the import shows its state, counts and the invalid rows with their line numbers."""
    BookFactory.create(isbn=isbn13("978000000001"))
    lines = [*book_lines(3), "No ISBN,,Someone,12345", ",,Nobody,9780306406157"]
    response = send(staff_client, csv_file(*lines))

    assert response.status_code == status.HTTP_202_ACCEPTED
    assert response["Location"] == reverse("api:import-detail", kwargs={"pk": response.data["id"]})
    assert response.data["status"] == "queued"
    assert response.data["rows_total"] == 5
    assert Book.objects.count() == 1  # nothing imported inside the request
    job = imported(staff_client, response)

    assert job["status"] == "succeeded"
    assert (job["created_count"], job["present_count"], job["invalid_count"]) == (2, 1, 2)
    assert job["rows_done"] == 5
    assert [row["row"] for row in job["invalid_rows"]] == [5, 6]
    assert set(job["invalid_rows"][0]["errors"]) == {"isbn"}
    assert set(job["invalid_rows"][1]["errors"]) == {"title"}
    assert Book.objects.count() == 3
    result = default_task_backend.get_result(ImportJob.objects.get().task_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == {"created": 2, "already_present": 1, "invalid": 2}


def test_importing_the_same_file_twice_creates_nothing_the_second_time(
    staff_client: APIClient, imported: Any
) -> None:
    """Books whose ISBN is in the catalogue (in either form) are counted, not created."""
    lines = book_lines(4)
    first = imported(staff_client, send(staff_client, csv_file(*lines)))
    second = imported(staff_client, send(staff_client, csv_file(*lines)))

    assert first["created_count"] == 4
    assert (second["created_count"], second["present_count"]) == (0, 4)
    assert Book.objects.count() == 4


def test_json_lines_import_with_a_bad_line(staff_client: APIClient, imported: Any) -> None:
    """JSON Lines: one object per line; a line that is not an object is an invalid row."""
    rows = [
        json.dumps({"title": "Émile", "author": "Zola", "isbn": "0-306-40615-2"}),
        "",
        "[1, 2]",
        "{not json",
        json.dumps({"title": "Same book", "author": "Again", "isbn": "9780306406157"}),
    ]
    upload = SimpleUploadedFile("books.jsonl", "\n".join(rows).encode(), "application/jsonl")
    job = imported(staff_client, send(staff_client, upload))

    assert (job["created_count"], job["present_count"], job["invalid_count"]) == (1, 1, 2)
    assert [row["row"] for row in job["invalid_rows"]] == [3, 4]
    assert Book.objects.get().isbn == "9780306406157"


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        pytest.param("books.txt", b"a,b", "text/plain", "neither CSV nor JSON Lines", id="format"),
        pytest.param("books.csv", b"", "text/csv", "empty", id="empty"),
        pytest.param("books.csv", b"  \n\n", "text/csv", "The file is empty", id="blank"),
        pytest.param(
            "books.csv",
            "title,author,isbn\nÉ,A,1".encode("latin-1"),
            "text/csv",
            "not UTF-8",
            id="encoding",
        ),
        pytest.param(
            "books.csv", b"title,isbn\nA,1", "text/csv", "no author column", id="missing-column"
        ),
        pytest.param(
            "books.jsonl",
            b'{"title": "A"}',
            "application/jsonl",
            "no author, isbn key",
            id="missing-key",
        ),
        pytest.param(
            "books.jsonl", b"title,author", "application/jsonl", "not JSON Lines", id="not-json"
        ),
        pytest.param("books.csv", b"title,author,isbn\n", "text/csv", "no rows", id="no-rows"),
        pytest.param(
            "books.csv",
            b'title,author,isbn\nA,B,C\n"D,E,F',
            "text/csv",
            "not valid CSV",
            id="broken-csv",
        ),
    ],
)
def test_bad_file_is_a_400_naming_the_problem_and_queues_nothing(
    staff_client: APIClient, name: str, content: bytes, content_type: str, message: str
) -> None:
    """Each problem of the file is found before anything is queued."""
    response = send(staff_client, SimpleUploadedFile(name, content, content_type))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.data["code"] == "invalid"
    assert message in response.data["errors"]["file"][0]
    assert not ImportJob.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_file_over_the_size_limit_is_a_400(staff_client: APIClient, settings: Any) -> None:
    """DJANGO_IMPORT_MAX_BYTES bounds the file, and the message names it."""
    settings.IMPORT_MAX_BYTES = 100
    response = send(staff_client, csv_file(*book_lines(5)))

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "DJANGO_IMPORT_MAX_BYTES" in response.data["errors"]["file"][0]
    assert not ImportJob.objects.exists()


def test_missing_file_is_a_400(staff_client: APIClient) -> None:
    response = staff_client.post(LIST_URL, {}, format="multipart")

    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "file" in response.data["errors"]


def test_imports_are_for_staff_only(api_client: APIClient, auth_client: APIClient) -> None:
    """Anonymous: 401; signed in but not staff: 403, for sending and for reading."""
    assert send(api_client, csv_file(*book_lines(1))).status_code == status.HTTP_401_UNAUTHORIZED
    assert send(auth_client, csv_file(*book_lines(1))).status_code == status.HTTP_403_FORBIDDEN
    assert auth_client.get(LIST_URL).status_code == status.HTTP_403_FORBIDDEN
    assert not ImportJob.objects.exists()


def test_a_json_body_is_a_415(staff_client: APIClient) -> None:
    """The import takes a multipart form only."""
    response = staff_client.post(LIST_URL, {"file": "x"}, format="json")

    assert response.status_code == status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


def test_import_resumes_after_the_last_committed_batch(
    staff_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that dies after some batches leaves them committed with the progress; the task
    run again imports only the rest, and the counts are those of one run."""
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    response = send(staff_client, csv_file(*book_lines(7)))
    job = ImportJob.objects.get()
    real_batch = tasks.import_batch
    calls = 0

    def dies_at_the_third_batch(*args: Any) -> ImportJob:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise SystemExit("the worker died")  # not an Exception: nothing marks it failed
        return real_batch(*args)

    monkeypatch.setattr(tasks, "import_batch", dies_at_the_third_batch)
    with pytest.raises(SystemExit):
        tasks.import_books.call(job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, Book.objects.count()) == ("running", 4, 4)

    monkeypatch.setattr(tasks, "import_batch", real_batch)
    tasks.import_books.call(job.pk)
    job.refresh_from_db()

    assert (job.status, job.rows_done, job.created_count, job.present_count) == (
        "succeeded",
        7,
        7,
        0,
    )
    assert job.attempts == 2
    assert Book.objects.count() == 7
    assert response.status_code == status.HTTP_202_ACCEPTED


def test_a_stopping_worker_hands_the_rest_of_the_import_over(
    staff_client: APIClient, monkeypatch: pytest.MonkeyPatch, run_worker: Callable[[], None]
) -> None:
    """When its worker is stopping, the import queues its continuation after a batch."""
    monkeypatch.setattr(tasks, "BATCH_SIZE", 2)
    send(staff_client, csv_file(*book_lines(5)))
    job = ImportJob.objects.get()
    DBTaskResult.objects.all().delete()  # this test runs the task itself, once
    monkeypatch.setattr(stopping, "requested", lambda: True)

    assert tasks.import_books.call(job.pk) == {"handed_over_at_row": 2}
    job.refresh_from_db()
    assert (job.status, job.rows_done) == ("queued", 2)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).get().pk.hex == (
        job.task_id.replace("-", "")
    )

    monkeypatch.setattr(stopping, "requested", lambda: False)
    run_worker()
    job.refresh_from_db()
    assert (job.status, job.created_count, Book.objects.count()) == ("succeeded", 5, 5)


def test_an_unexpected_error_fails_the_import_with_its_reason(
    staff_client: APIClient, monkeypatch: pytest.MonkeyPatch, run_worker: Callable[[], None]
) -> None:
    """An error the task does not expect marks the import and its task failed."""
    send(staff_client, csv_file(*book_lines(2)))

    def broken(*args: Any) -> ImportJob:
        raise ValueError("the disk is full")

    monkeypatch.setattr(tasks, "import_batch", broken)
    run_worker()
    job = ImportJob.objects.get()

    assert job.status == "failed"
    assert job.failure == "ValueError: the disk is full"
    assert default_task_backend.get_result(job.task_id).status == TaskResultStatus.FAILED


def test_import_list_shows_the_newest_first(staff_client: APIClient) -> None:
    send(staff_client, csv_file(*book_lines(1), name="first.csv"))
    send(staff_client, csv_file(*book_lines(1), name="second.csv"))

    response = staff_client.get(LIST_URL)

    assert response.status_code == status.HTTP_200_OK
    assert [job["file_name"] for job in response.data["results"]] == ["second.csv", "first.csv"]
