"""The worker: it runs queued tasks, and again those whose worker died (background/recovery.py)."""

import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from background import recovery
from background.management.commands import worker
from background.models import WorkerHeartbeat
from imports.models import ImportJob
from imports.tasks import import_books

BOOKS_CSV = b"title,subtitle,author,isbn\nDune,,Frank Herbert,978-0-441-17271-9\n"


def queued_import(client: APIClient) -> ImportJob:
    """An import sent through the API, its task queued."""
    upload = SimpleUploadedFile("books.csv", BOOKS_CSV, content_type="text/csv")
    client.post(reverse("api:import-list"), {"file": upload}, format="multipart")
    return ImportJob.objects.get()


def heartbeat(worker_id: str, *, host: str = "another-host", pid: int = 1, age: float = 0) -> None:
    """A worker's heartbeat, last renewed ``age`` seconds ago."""
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, host=host, pid=pid, seen_at=timezone.now() - timedelta(seconds=age)
    )


def claimed_by(task_id: str, *worker_ids: str) -> None:
    """The task as the worker left it after ``worker_ids`` claimed it in turn: RUNNING."""
    DBTaskResult.objects.filter(pk=task_id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=list(worker_ids)
    )


def gone_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_died_runs_again_on_the_next_worker(staff_client: APIClient) -> None:
    """A task left RUNNING by a worker whose heartbeat stopped is queued again when the next
    worker starts, which runs it to the end."""
    job = queued_import(staff_client)
    heartbeat("killed", age=settings.WORKER_LOST_AFTER + 1)
    claimed_by(job.task_id, "killed")

    call_command("worker", "--batch", "--no-startup-delay")

    result = import_books.get_result(job.task_id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 2
    assert result.worker_ids[0] == "killed"
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("succeeded", 1)
    # Neither the dead worker nor the one that stopped cleanly is left behind.
    assert not WorkerHeartbeat.objects.exists()


@pytest.mark.django_db
def test_a_task_that_keeps_losing_its_worker_fails_with_worker_lost(
    staff_client: APIClient,
) -> None:
    """After TASK_MAX_ATTEMPTS workers died running it, a task is not tried again: it fails."""
    job = queued_import(staff_client)
    claimed_by(job.task_id, *[f"killed-{n}" for n in range(settings.TASK_MAX_ATTEMPTS)])

    assert recovery.recover("me") == recovery.Recovered(failed=1)
    result = import_books.get_result(job.task_id)
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "background.recovery.WorkerLost"


@pytest.mark.django_db
def test_a_worker_on_this_host_is_dead_once_its_process_is_gone(staff_client: APIClient) -> None:
    """A fresh heartbeat does not save a worker of this host whose process has ended; the task
    of a live one is left alone."""
    job = queued_import(staff_client)
    heartbeat("ended", host=recovery.HOST, pid=gone_pid())
    heartbeat("alive", host=recovery.HOST, pid=os.getppid())

    claimed_by(job.task_id, "alive")
    assert recovery.recover("me") == recovery.Recovered()
    claimed_by(job.task_id, "ended")
    assert recovery.recover("me") == recovery.Recovered(requeued=1)

    assert import_books.get_result(job.task_id).status == TaskResultStatus.READY
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]


@pytest.mark.django_db
def test_worker_alive_says_whether_a_worker_on_this_host_beats() -> None:
    """`worker --alive` fails, saying why, until a live worker of this host has beaten lately."""
    with pytest.raises(CommandError, match="No worker has started on this host"):
        call_command("worker", "--alive")
    heartbeat("stuck", host=recovery.HOST, pid=os.getppid(), age=settings.WORKER_LOST_AFTER + 1)
    with pytest.raises(CommandError, match="has beaten in the last"):
        call_command("worker", "--alive")

    recovery.beat("stuck")

    call_command("worker", "--alive")


@pytest.mark.django_db
def test_a_worker_declared_dead_mid_task_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that finds its heartbeat gone registers again when idle, but exits while it
    runs a task, which another worker may already have started again."""
    exits: list[int] = []
    monkeypatch.setattr(os, "_exit", exits.append)
    beating = worker.Heartbeat("stalled")
    running: Any = type("Result", (), {"id": "task-1"})

    beating.pulse()
    assert WorkerHeartbeat.objects.filter(worker_id="stalled").exists()
    assert exits == []

    WorkerHeartbeat.objects.all().delete()
    beating.started(sender=None, task_result=running)
    beating.pulse()
    assert exits == [worker.EXIT_DECLARED_DEAD]
