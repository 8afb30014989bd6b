"""The import task: a queued file of books into the catalogue, with the BookSerializer's rules.

It runs on a worker (``manage.py worker``) and may run more than once: if
its worker dies, the task runs again (background/recovery.py). Each batch
of rows commits together with the job's progress, so a second run resumes
after the last committed batch: no row is imported twice or skipped, and
the counts are those of one run. A worker that is stopping (a deploy,
``docker compose stop``) hands the rest to the next one at a batch boundary.
"""

import logging
from itertools import batched, islice
from typing import Any

from django.db import IntegrityError, transaction
from django.tasks import TaskResult, TaskResultStatus, task
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from api_core.errors import field_errors
from background import stopping
from books.models import Book
from imports.files import Row, rows
from imports.models import ImportJob
from imports.serializers import BookRowSerializer

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# The errors an import keeps, for its first invalid rows; the count covers all.
REPORTED_ERRORS = 20


class Superseded(Exception):
    """Another run of the same import has got further than this one."""


@task()
def import_books(import_id: int) -> dict[str, int]:
    """Import the rows of ImportJob ``import_id`` not yet done; return its counts."""
    job = start(import_id)
    try:
        remaining = islice(rows(job.format, job.content), job.rows_done, None)
        for batch in batched(remaining, BATCH_SIZE):
            job = import_batch(import_id, job.rows_done, batch)
            if stopping.requested() and job.rows_done < job.rows_total:
                hand_over(import_id)
                return {"handed_over_at_row": job.rows_done}
    except Superseded as error:
        logger.warning("Import %s: this run stops, %s", import_id, error)
        return {}
    except Exception as error:
        ImportJob.objects.filter(pk=import_id).update(
            status=ImportJob.Status.FAILED,
            failure=f"{type(error).__name__}: {error}",
            finished=timezone.now(),
        )
        raise
    ImportJob.objects.filter(pk=import_id).update(
        status=ImportJob.Status.SUCCEEDED, finished=timezone.now()
    )
    logger.info(
        "Import %s succeeded: %d created, %d already present, %d invalid",
        import_id,
        job.created_count,
        job.present_count,
        job.invalid_count,
    )
    return {
        "created": job.created_count,
        "already_present": job.present_count,
        "invalid": job.invalid_count,
    }


def mark_failed(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    """An import whose task failed without saying so (given up after its workers died
    TASK_MAX_ATTEMPTS times) is failed too, with the task's reason."""
    if task_result.status != TaskResultStatus.FAILED or not task_result.errors:
        return
    reason = task_result.errors[-1].traceback.strip().splitlines()[-1]
    ImportJob.objects.filter(task_id=str(task_result.id)).exclude(
        status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]
    ).update(status=ImportJob.Status.FAILED, failure=reason, finished=timezone.now())


def hand_over(import_id: int) -> None:
    """Queue the rest of the import as a new task, for the next worker to resume."""
    with transaction.atomic():
        result = import_books.enqueue(import_id)
        ImportJob.objects.filter(pk=import_id).update(
            status=ImportJob.Status.QUEUED, task_id=str(result.id)
        )
    logger.info("Import %s: the worker is stopping; the rest is queued again", import_id)


def start(import_id: int) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=import_id)
        job.status = ImportJob.Status.RUNNING
        job.attempts += 1
        job.started = job.started or timezone.now()
        job.save(update_fields=["status", "attempts", "started"])
    if job.attempts > 1:
        logger.warning(
            "Import %s resumes after row %d (attempt %d)", job.pk, job.rows_done, job.attempts
        )
    return job


def import_batch(import_id: int, first: int, batch: tuple[Row, ...]) -> ImportJob:
    """Validate and create one batch of rows, and record it as done, in one transaction."""
    with transaction.atomic():
        # Without the file: it was read once, at the start.
        job = ImportJob.objects.select_for_update().defer("content").get(pk=import_id)
        if job.rows_done != first:
            raise Superseded(f"import {import_id} is at row {job.rows_done}, not {first}")
        valid: dict[str, dict[str, Any]] = {}
        present = 0
        serializer = BookRowSerializer()
        for row in batch:
            book, errors = validate(row, serializer)
            if errors:
                record_invalid(job, row.number, errors)
            elif book["isbn"] in valid:
                present += 1  # the same ISBN earlier in this batch
            else:
                valid[book["isbn"]] = book
        existing = set(Book.objects.filter(isbn__in=valid).values_list("isbn", flat=True))
        created = create(book for isbn, book in valid.items() if isbn not in existing)
        job.created_count += created
        job.present_count += present + len(valid) - created
        job.rows_done += len(batch)
        job.save(
            update_fields=[
                "rows_done",
                "created_count",
                "present_count",
                "invalid_count",
                "invalid_rows",
            ]
        )
    return job


def validate(row: Row, serializer: BookRowSerializer) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row as a book's fields, or its errors per field."""
    if row.problem:
        return {}, {"row": [f"Not a book: {row.problem}"]}
    try:
        return serializer.run_validation(row.data), {}
    except ValidationError as error:
        return {}, field_errors(error.detail)


def record_invalid(job: ImportJob, number: int, errors: dict[str, list[str]]) -> None:
    job.invalid_count += 1
    if len(job.invalid_rows) < REPORTED_ERRORS:
        job.invalid_rows = [*job.invalid_rows, {"row": number, "errors": errors}]


def create(books: Any) -> int:
    """Create the books; the number created. One ISBN that another request created
    meanwhile fails the batch's insert, so then each book goes in on its own."""
    new = [Book(**data) for data in books]
    try:
        with transaction.atomic():
            Book.objects.bulk_create(new)
    except IntegrityError:
        created = 0
        for book in new:
            try:
                with transaction.atomic():
                    book.save(force_insert=True)
                created += 1
            except IntegrityError:
                pass  # created meanwhile: already present
        return created
    return len(new)
