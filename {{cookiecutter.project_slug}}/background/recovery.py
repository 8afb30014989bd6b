"""Heartbeats and the recovery of tasks whose worker died while running them.

django-tasks-db marks a task RUNNING when a worker claims it and leaves it
so if that worker is killed (SIGKILL, out of memory, a lost node): nothing
would ever run it again. Every `manage.py worker` therefore renews a
WorkerHeartbeat row, and each one also looks for dead workers' tasks:

- a worker is dead when its heartbeat is older than WORKER_LOST_AFTER
  seconds, or at once when it ran on this host and its process is gone;
- a task RUNNING on a dead worker goes back to READY, so the next free
  worker runs it again from the start (at least once, never lost), until it
  has been started TASK_MAX_ATTEMPTS times; then it is FAILED with
  WorkerLost, so that a task that kills its worker cannot do so forever.

Tasks must therefore be safe to run again (the catalogue import is: it
checkpoints its progress). A worker that finds its own heartbeat gone (it
stalled for longer than WORKER_LOST_AFTER, and its task may already run
elsewhere) exits at once rather than run that task twice at a time.
"""

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import TaskResultStatus, task_backends
from django.tasks.signals import task_finished
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from background.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def host_identity() -> str:
    """This host and its process namespace: where a pid means the same process.

    Containers on the host network share the host's name but not its pids,
    so the name alone would let one worker declare another's pid dead.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = "no-pid-namespace"
    return f"{socket.gethostname()} {namespace}"[:255]


HOST = host_identity()


class WorkerLost(Exception):
    """The workers running a task stopped before it finished, too many times."""


@dataclass(frozen=True)
class Recovered:
    """What one recovery pass did: tasks queued again, tasks given up."""

    requeued: int = 0
    failed: int = 0


def process_exists(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this host (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True  # no /proc (macOS): trust kill()


def beat(worker_id: str) -> bool:
    """Renew ``worker_id``'s heartbeat; False when it was gone (declared dead meanwhile)."""
    return WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=timezone.now()) > 0


def register(worker_id: str) -> None:
    """Record a new worker's first heartbeat."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"host": HOST, "pid": os.getpid(), "seen_at": timezone.now()},
    )


def unregister(worker_id: str) -> None:
    """Remove a worker that stops cleanly (it finished its task first)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def local_worker_problem() -> str:
    """Why no live worker runs on this host, or "" when one does."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER)
    beats = WorkerHeartbeat.objects.filter(host=HOST).values_list("pid", "seen_at")
    if not beats:
        return "No worker has started on this host (python manage.py worker)."
    if not any(seen_at >= cutoff and process_exists(pid) for pid, seen_at in beats):
        return (
            f"No worker on this host has beaten in the last {settings.WORKER_LOST_AFTER} "
            "seconds (DJANGO_WORKER_LOST_AFTER): it is stuck, or has stopped."
        )
    return ""


def dead_workers(me: str) -> list[str]:
    """The heartbeats of dead workers: too old, or of a process gone from this host."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER)
    dead = []
    for worker_id, host, pid, seen_at in WorkerHeartbeat.objects.exclude(worker_id=me).values_list(
        "worker_id", "host", "pid", "seen_at"
    ):
        # A restarted container can reuse the pid of the process it replaces.
        gone = host == HOST and (pid == os.getpid() or not process_exists(pid))
        if gone or seen_at < cutoff:
            dead.append(worker_id)
    return dead


def recover(me: str) -> Recovered:
    """Requeue (or give up) every task RUNNING on a worker that has no live heartbeat."""
    with transaction.atomic():
        dead = dead_workers(me)
        WorkerHeartbeat.objects.filter(worker_id__in=dead).delete()
        live = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) | {me}
        requeued = failed = 0
        given_up = []
        for task_id, worker_ids, started_at in DBTaskResult.objects.running().values_list(
            "id", "worker_ids", "started_at"
        ):
            if worker_ids and worker_ids[-1] in live:
                continue
            # Only if nobody changed it since it was read (another worker's pass).
            same = DBTaskResult.objects.filter(
                Q(pk=task_id, status=TaskResultStatus.RUNNING, started_at=started_at)
            )
            attempts = len(worker_ids)
            if attempts >= settings.TASK_MAX_ATTEMPTS:
                error = WorkerLost(
                    f"Its worker stopped while running it, {attempts} times; not tried again "
                    f"(TASK_MAX_ATTEMPTS is {settings.TASK_MAX_ATTEMPTS})."
                )
                if same.update(
                    status=TaskResultStatus.FAILED,
                    finished_at=timezone.now(),
                    exception_class_path=f"{__name__}.WorkerLost",
                    traceback=f"{__name__}.WorkerLost: {error}\n",
                ):
                    failed += 1
                    logger.error("Task %s failed: %s", task_id, error)
                    given_up.append(task_id)
            else:
                requeued += same.update(status=TaskResultStatus.READY, started_at=None)
                logger.warning(
                    "Task %s was running on a worker that is gone (%s); queued again "
                    "(attempt %d of %d next).",
                    task_id,
                    worker_ids[-1] if worker_ids else "unknown",
                    attempts + 1,
                    settings.TASK_MAX_ATTEMPTS,
                )
    # As a worker does for a task it ran, so that whoever follows the task hears of it.
    for task_id in given_up:
        result = DBTaskResult.objects.get(pk=task_id)
        backend = task_backends[result.backend_name]
        task_finished.send(sender=type(backend), task_result=result.task_result)
    return Recovered(requeued, failed)
