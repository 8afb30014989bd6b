"""The worker's heartbeats, and the recovery of tasks whose worker died."""

import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from background import recovery
from background.models import WorkerHeartbeat
from imports.models import ImportJob

pytestmark = pytest.mark.django_db


def running_task(*worker_ids: str) -> DBTaskResult:
    """A task that these workers started in turn, the last still running it."""
    return DBTaskResult.objects.create(
        id=uuid.uuid4(),
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="imports.tasks.import_books",
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now(),
        worker_ids=list(worker_ids),
    )


def heartbeat(worker_id: str, *, host: str = "elsewhere", pid: int = 1, age: float = 0) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        host=host,
        pid=pid,
        seen_at=timezone.now() - timedelta(seconds=age),
    )


def dead_pid() -> int:
    """The pid of a process that has exited (and been waited for)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_task_of_a_worker_silent_too_long_is_queued_again() -> None:
    """A heartbeat older than WORKER_LOST_AFTER is a dead worker: its task goes back to the
    queue and its heartbeat is removed; a live worker's task is left alone."""
    heartbeat("silent", age=settings.WORKER_LOST_AFTER + 1)
    heartbeat("alive", age=1)
    lost, kept = running_task("silent"), running_task("alive")

    assert recovery.recover("me") == recovery.Recovered(requeued=1)
    lost.refresh_from_db()
    kept.refresh_from_db()
    assert (lost.status, lost.started_at) == (TaskResultStatus.READY, None)
    assert kept.status == TaskResultStatus.RUNNING
    assert set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == {"alive"}


def test_task_of_a_worker_whose_process_is_gone_from_this_host_is_queued_at_once() -> None:
    """On the same host a dead process is seen at once, whatever its heartbeat's age."""
    heartbeat("killed", host=recovery.HOST, pid=dead_pid())
    task = running_task("killed")

    assert recovery.recover("me").requeued == 1
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY


def test_same_name_but_another_pid_namespace_is_not_this_host() -> None:
    """Containers on the host network share its name, not its pids: their workers count as
    elsewhere, and only their heartbeat's age can declare them dead."""
    heartbeat("container", host=f"{recovery.HOST.split()[0]} pid:[1]", pid=dead_pid())
    task = running_task("container")

    assert recovery.recover("me").requeued == 0
    task.refresh_from_db()
    assert task.status == TaskResultStatus.RUNNING


def test_a_task_that_lost_its_worker_too_often_fails_with_worker_lost() -> None:
    """After TASK_MAX_ATTEMPTS starts the task fails instead of killing workers forever."""
    task = running_task(*(f"w{n}" for n in range(settings.TASK_MAX_ATTEMPTS)))

    assert recovery.recover("me") == recovery.Recovered(failed=1)
    task.refresh_from_db()
    assert task.status == TaskResultStatus.FAILED
    assert task.exception_class_path == "background.recovery.WorkerLost"
    assert "3 times" in task.traceback


def test_a_task_changed_meanwhile_is_not_requeued_twice() -> None:
    """The requeue applies only to the row as it was read: a second pass changes nothing."""
    running_task("gone")

    assert recovery.recover("me").requeued == 1
    assert recovery.recover("other").requeued == 0


def test_beat_tells_a_worker_it_was_declared_dead() -> None:
    recovery.register("w")
    assert recovery.beat("w") is True
    WorkerHeartbeat.objects.all().delete()
    assert recovery.beat("w") is False


def test_worker_alive_check_for_health_probes() -> None:
    """`worker --alive` fails with a reason until a worker of this host beats, then passes."""
    with pytest.raises(CommandError, match="No worker has started on this host"):
        call_command("worker", "--alive")
    heartbeat("stale", host=recovery.HOST, pid=dead_pid())
    with pytest.raises(CommandError, match="stuck, or has stopped"):
        call_command("worker", "--alive")

    recovery.register("this-process")
    call_command("worker", "--alive")


def test_an_import_whose_task_is_given_up_is_failed_with_the_reason(
    staff_client: APIClient,
) -> None:
    """When recovery gives a task up (WorkerLost), its import shows failed, and why."""
    upload = SimpleUploadedFile("books.csv", b"title,author,isbn\nA,B,9780306406157", "text/csv")
    staff_client.post(reverse("api:import-list"), {"file": upload}, format="multipart")
    job = ImportJob.objects.get()
    DBTaskResult.objects.filter(pk=job.task_id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now(),
        worker_ids=[f"w{n}" for n in range(settings.TASK_MAX_ATTEMPTS)],
    )

    assert recovery.recover("me").failed == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.failure.startswith("background.recovery.WorkerLost: Its worker stopped")
